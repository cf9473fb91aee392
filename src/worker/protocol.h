// The worker protocol: binary frames over the socket between sofaasd (pool) and one
// sofaas-worker. One frame = a fixed header + a body of length-prefixed fields; both ends
// run on the same machine, so integers travel in host byte order.
//
//   worker -> daemon  Sandboxed once, when the sandbox is in place, before any byte of
//                               the function's is loaded (no frame before it can be forged)
//   worker -> daemon  Ready    once, after dlopen + sofaas_init (the cold start)
//   daemon -> worker  Invoke   one event
//   worker -> daemon  Result   one per Invoke, in order
//
// No JSON on this path: the daemon copies the event in and the output out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/invocation_report.h"  // Principal: a plain struct, nothing to link

namespace sofaas::protocol {

enum class FrameType : uint32_t { ready = 1, invoke = 2, result = 3, sandboxed = 4 };

struct FrameHeader {
    uint32_t type;
    uint32_t body_size;
};
inline constexpr size_t header_size = sizeof(FrameHeader);
// Upper bound on any frame body: payload limit plus room for the other fields.
inline constexpr uint32_t max_body_size = 64u * 1024 * 1024;

struct Ready {
    bool ok = true;
    double init_ms = 0;
    std::string error_type;     // when !ok: e.g. "Runtime.InitError", "Runtime.HandlerNotFound"
    std::string error_message;
};

struct Invoke {
    std::string request_id;
    int64_t deadline_unix_ms = 0;  // wall-clock deadline, for remaining_ms()
    std::string payload;
    Principal caller;  // who asked for it: the context's caller_* (ABI version 2)
};

struct Result {
    bool ok = true;
    double duration_ms = 0;         // handler time, measured in the worker
    uint32_t max_memory_used_kb = 0;  // peak RSS of the worker so far
    std::string error_type;
    std::string error_message;
    std::string output;
};

// Encoding appends one whole frame (header + body) to `out`.
void encode(const Ready& frame, std::string& out);
void encode(const Invoke& frame, std::string& out);
// The same frame from its parts: the daemon encodes an event it shares with a retry
// elsewhere without copying it into an Invoke first (events go up to 6 MiB).
void encode_invoke(std::string_view request_id, int64_t deadline_unix_ms, const Principal& caller,
                   std::string_view payload, std::string& out);
void encode(const Result& frame, std::string& out);
void encode_sandboxed(std::string& out);  // a frame without a body

// Decoding takes a frame body (without header) and returns nullopt if it is malformed.
std::optional<Ready> decode_ready(std::string_view body);
std::optional<Invoke> decode_invoke(std::string_view body);
std::optional<Result> decode_result(std::string_view body);

// Reads the header at the start of `bytes` (at least header_size long).
FrameHeader read_header(const char* bytes);

// Largest output a function may return (Lambda's 6 MB response limit); the worker answers
// a larger one with Result{ok=false, "Runtime.ResponseTooLarge"}.
inline constexpr size_t max_output_bytes = 6u * 1024 * 1024;

// Ready.error_type of a worker whose sandbox could not be set up (sandbox.h): the host's
// fault, not the library's.
inline constexpr std::string_view sandbox_error_type = "Runtime.SandboxError";

// Exit code with which a worker reports that an allocation failed past its memory limit.
inline constexpr int exit_out_of_memory = 87;

}  // namespace sofaas::protocol
