// sofaas C++ SDK: header-only, on top of the C ABI in sofaas.h. Needs C++17 or later;
// works with and without exceptions (-fno-exceptions) and RTTI (-fno-rtti).
//
//   #include <sofaas/sofaas.hpp>
//   static sofaas::Response handle(const sofaas::Request& req) {
//       return sofaas::Response::success("hello " + std::string(req.payload()));
//   }
//   SOFAAS_HANDLER(handle)
//
// An exception escaping the handler or the init hook becomes a function error (an init
// error) whose errorType is the exception's type name (std::exception without RTTI) and
// whose errorMessage is what(). Built without exceptions, an error is only what the
// function returns.
//
// The optional init hook runs once per cold start, before the first event:
//
//   static sofaas::InitResult init(const sofaas::InitContext& context) {
//       if (!load_model()) return sofaas::InitResult::failure("no model");
//       return sofaas::InitResult::ok();
//   }
//   SOFAAS_INIT(init)
#pragma once

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "sofaas/sofaas.hpp needs C++17 or later (-std=c++17); C code includes sofaas/sofaas.h"
#endif

#include <sofaas/sofaas.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define SOFAAS_SDK_EXCEPTIONS 1
#include <exception>
#endif
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
#define SOFAAS_SDK_RTTI 1
#include <cxxabi.h>
#include <typeinfo>
#endif

namespace sofaas {

// Who asked for an invocation (Lambda's context.identity); each part is empty when it does
// not apply, and all are on a host older than ABI version 2.
struct Caller {
    std::string_view key_id;    // the API key, or a role session's temporary key
    std::string_view role;      // a session's role
    std::string_view user_sub;  // a session's signed-in user (the ID token's "sub")
    std::string_view schedule;  // a schedule's firing: the schedule's id
};

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
    Caller caller() const {
        if (ctx_->abi_version < 2) return {};
        return {ctx_->caller_key_id, ctx_->caller_role, ctx_->caller_user_sub, ctx_->caller_schedule};
    }

private:
    const sofaas_context* ctx_;
    std::string_view payload_;
};

// What the init hook sees: the function, not an invocation (no request id, no deadline).
class InitContext {
public:
    explicit InitContext(const sofaas_context* ctx) : ctx_(ctx) {}

    std::string_view function_name() const { return ctx_->function_name; }
    uint32_t function_version() const { return ctx_->function_version; }
    uint32_t memory_limit_mb() const { return ctx_->memory_limit_mb; }
    void log(std::string_view line) const { ctx_->host->log(ctx_, line.data(), line.size()); }

private:
    const sofaas_context* ctx_;
};

// A failed init refuses the deploy (Runtime.InitError with this message), or fails the
// invocation that needed the cold start.
class InitResult {
public:
    static InitResult ok() { return InitResult(true, {}); }
    static InitResult failure(std::string message) { return InitResult(false, std::move(message)); }

    bool is_ok() const { return ok_; }
    const std::string& error_message() const { return message_; }

private:
    InitResult(bool ok, std::string message) : ok_(ok), message_(std::move(message)) {}
    bool ok_;
    std::string message_;
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
#if SOFAAS_SDK_EXCEPTIONS
// "std::runtime_error" rather than the mangled "St13runtime_error".
inline std::string type_name(const std::exception& error) {
#if SOFAAS_SDK_RTTI
    const std::type_info& type = typeid(error);
    int status = 0;
    char* readable = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string name = status == 0 && readable ? readable : type.name();
    std::free(readable);
    return name;
#else
    (void)error;
    return "std::exception";
#endif
}
#endif

template <typename Handler>
int invoke(Handler&& handler, const sofaas_context* ctx, const uint8_t* event, size_t len) {
#if SOFAAS_SDK_EXCEPTIONS
    try {
#endif
        Response response = handler(Request(ctx, event, len));
        if (response.is_success()) {
            ctx->host->respond(ctx, response.output().data(), response.output().size());
            return SOFAAS_OK;
        }
        ctx->host->fail(ctx, response.error_type().c_str(), response.error_message().c_str());
#if SOFAAS_SDK_EXCEPTIONS
    } catch (const std::exception& e) {
        ctx->host->fail(ctx, type_name(e).c_str(), e.what());
    } catch (...) {
        ctx->host->fail(ctx, "UnknownException", "a non-standard exception escaped the handler");
    }
#endif
    return SOFAAS_ERROR;
}

template <typename Init>
int init(Init&& hook, const sofaas_context* ctx) {
#if SOFAAS_SDK_EXCEPTIONS
    try {
#endif
        InitResult result = hook(InitContext(ctx));
        if (result.is_ok()) return SOFAAS_OK;
        ctx->host->fail(ctx, "InitError", result.error_message().c_str());
#if SOFAAS_SDK_EXCEPTIONS
    } catch (const std::exception& e) {
        ctx->host->fail(ctx, type_name(e).c_str(), e.what());
    } catch (...) {
        ctx->host->fail(ctx, "UnknownException", "a non-standard exception escaped the init hook");
    }
#endif
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

// Exports sofaas_init calling `sofaas::InitResult fn(const sofaas::InitContext&)` once per
// cold start, before the first event. Optional; at most one per library.
#define SOFAAS_INIT(fn)                                                                      \
    extern "C" __attribute__((visibility("default"))) int sofaas_init(const sofaas_context* ctx) { \
        return ::sofaas::detail::init(fn, ctx);                                              \
    }
