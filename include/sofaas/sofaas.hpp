// sofaas C++ SDK: header-only, on top of the C ABI in sofaas.h.
//
//   #include <sofaas/sofaas.hpp>
//   static sofaas::Response handle(const sofaas::Request& req) {
//       return sofaas::Response::success("hello " + std::string(req.payload()));
//   }
//   SOFAAS_HANDLER(handle)
//
// An exception escaping the handler becomes a function error whose errorType is the
// exception's type name and whose errorMessage is what().
#pragma once

#include <sofaas/sofaas.h>

#include <cxxabi.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

namespace sofaas {

class Request {
public:
    Request(const sofaas_context* ctx, const uint8_t* event, size_t len)
        : ctx_(ctx), payload_(reinterpret_cast<const char*>(event), len) {}

    std::string_view payload() const { return payload_; }
    std::string_view request_id() const { return ctx_->request_id; }
    std::string_view function_name() const { return ctx_->function_name; }
    uint32_t function_version() const { return ctx_->function_version; }
    uint32_t memory_limit_mb() const { return ctx_->memory_limit_mb; }
    std::chrono::milliseconds get_time_remaining() const {
        return std::chrono::milliseconds(ctx_->host->remaining_ms(ctx_));
    }
    void log(std::string_view line) const { ctx_->host->log(ctx_, line.data(), line.size()); }

private:
    const sofaas_context* ctx_;
    std::string_view payload_;
};

class Response {
public:
    static Response success(std::string output) { return Response(true, std::move(output), {}); }
    static Response failure(std::string message, std::string error_type = "FunctionError") {
        return Response(false, std::move(message), std::move(error_type));
    }

    bool is_success() const { return success_; }
    const std::string& output() const { return body_; }         // success: the output
    const std::string& error_message() const { return body_; }  // failure: errorMessage
    const std::string& error_type() const { return error_type_; }

private:
    Response(bool ok, std::string body, std::string type)
        : success_(ok), body_(std::move(body)), error_type_(std::move(type)) {}
    bool success_;
    std::string body_;
    std::string error_type_;
};

namespace detail {
// "std::runtime_error" rather than the mangled "St13runtime_error".
inline std::string type_name(const std::type_info& type) {
    int status = 0;
    char* readable = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string name = status == 0 && readable ? readable : type.name();
    std::free(readable);
    return name;
}

template <typename Handler>
int invoke(Handler&& handler, const sofaas_context* ctx, const uint8_t* event, size_t len) {
    try {
        Response response = handler(Request(ctx, event, len));
        if (response.is_success()) {
            ctx->host->respond(ctx, response.output().data(), response.output().size());
            return SOFAAS_OK;
        }
        ctx->host->fail(ctx, response.error_type().c_str(), response.error_message().c_str());
    } catch (const std::exception& e) {
        ctx->host->fail(ctx, type_name(typeid(e)).c_str(), e.what());
    } catch (...) {
        ctx->host->fail(ctx, "UnknownException", "a non-standard exception escaped the handler");
    }
    return SOFAAS_ERROR;
}
}  // namespace detail

}  // namespace sofaas

// Exports the ABI version and sofaas_handler calling `fn(const sofaas::Request&)`.
#define SOFAAS_HANDLER(fn)                                                                   \
    extern "C" __attribute__((visibility("default"))) uint32_t sofaas_abi_version(void) {   \
        return SOFAAS_ABI_VERSION;                                                           \
    }                                                                                        \
    extern "C" __attribute__((visibility("default"))) int sofaas_handler(                   \
        const sofaas_context* ctx, const uint8_t* event, size_t len) {                       \
        return ::sofaas::detail::invoke(fn, ctx, event, len);                                \
    }
