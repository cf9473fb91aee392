/*
 * sofaas function ABI (C). A function is a shared library that exports:
 *
 *   uint32_t sofaas_abi_version(void);                       required
 *   int      sofaas_handler(const sofaas_context*, const uint8_t* event, size_t len);
 *                                                            required (name configurable at deploy)
 *   int      sofaas_init(const sofaas_context*);             optional, once per cold start
 *
 * Everything the host offers (output, errors, logging, remaining time) is reached through
 * ctx->host, a table of function pointers, so a function never links against sofaas.
 * No C++ types cross this boundary: C, C++, Rust (cdylib) and Zig can all implement it.
 */
#ifndef SOFAAS_SOFAAS_H
#define SOFAAS_SOFAAS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOFAAS_ABI_VERSION 1u

/* Return values of sofaas_handler and sofaas_init. */
#define SOFAAS_OK 0
#define SOFAAS_ERROR 1

typedef struct sofaas_context sofaas_context;

typedef struct sofaas_host {
    /* Sets the invocation's output (copied; may be called again to replace it). */
    void (*respond)(const sofaas_context* ctx, const void* data, size_t len);
    /* Marks the invocation failed with Lambda's errorType / errorMessage (both copied;
     * NULL or "" type means "FunctionError"). The handler should then return SOFAAS_ERROR;
     * once fail() is called the invocation fails whatever the handler returns. */
    void (*fail)(const sofaas_context* ctx, const char* error_type, const char* error_message);
    /* Writes one line to the function's log (to stderr, adding the '\n' if missing). */
    void (*log)(const sofaas_context* ctx, const char* message, size_t len);
    /* Milliseconds left before the deadline (Lambda's getRemainingTimeInMillis), never
     * negative; INT64_MAX during sofaas_init, which has no invocation deadline. */
    int64_t (*remaining_ms)(const sofaas_context* ctx);
} sofaas_host;

struct sofaas_context {
    uint32_t abi_version;      /* SOFAAS_ABI_VERSION of the host */
    const char* request_id;    /* empty during sofaas_init */
    const char* function_name;
    uint32_t function_version;
    uint32_t memory_limit_mb;
    const sofaas_host* host;
    void* host_data;           /* opaque to the function */
};

typedef uint32_t (*sofaas_abi_version_fn)(void);
typedef int (*sofaas_handler_fn)(const sofaas_context* ctx, const uint8_t* event, size_t event_len);
typedef int (*sofaas_init_fn)(const sofaas_context* ctx);

/* Convenience for C functions: defines sofaas_abi_version() with the header's version. */
#define SOFAAS_DECLARE_ABI()                                                     \
    __attribute__((visibility("default"))) uint32_t sofaas_abi_version(void) { \
        return SOFAAS_ABI_VERSION;                                               \
    }

#ifdef __cplusplus
}
#endif

#endif /* SOFAAS_SOFAAS_H */
