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
 *
 * Calls. One execution environment (one worker process) loads the library once, calls
 * sofaas_init once if it exists, then sofaas_handler for one event at a time, never two
 * at once, from the thread that called sofaas_init. Between events the environment may
 * be frozen (with every thread the function started) or killed without notice.
 *
 * Lifetimes. ctx, every string it points to and event are valid only until the call
 * that received them (sofaas_init or sofaas_handler) returns: copy what must outlive it.
 * The host table ctx->host stays valid, at the same address, for as long as the process
 * lives, but its functions act on the call in progress and must not be called once that
 * call has returned (they would act on the next one, or on none).
 *
 * Threads. A function may start threads. While a call is in progress, its host functions
 * may be called from any thread of the function, with the same ctx, but not at the same
 * time as each other: the function serializes them (log is the exception: it may run
 * concurrently with any other). Output set by respond or fail from another thread counts
 * only if it happens before the call returns.
 *
 * NULL. ctx, ctx->host and every function of the table are never NULL; the strings of
 * ctx are never NULL (request_id and the caller_* strings are "" during sofaas_init). event is NULL only when len is
 * 0. A function may pass NULL as respond's data with len 0 (an empty output), as fail's
 * error_type ("FunctionError") or error_message (""), and as log's message (an empty
 * line); ctx must always be the one the call received.
 *
 * Growth. SOFAAS_ABI_VERSION is the version of this layout. The host loads a library only
 * when its sofaas_abi_version() returns a version the host implements (today: 1 and 2),
 * and refuses it at deploy otherwise (Runtime.InvalidAbi). Within a version nothing is
 * removed, reordered or retyped. A later version may append fields to sofaas_context and
 * functions to the end of sofaas_host, never elsewhere; ctx->abi_version says which
 * version the running host implements, so a function built against a newer header checks
 * it before using a member added after version 1. A library built for an older version
 * keeps working: it never reads past the members its version had.
 *
 * Versions. 1: the context up to host_data. 2: the caller_* strings (who asked for the
 * invocation).
 */
#ifndef SOFAAS_SOFAAS_H
#define SOFAAS_SOFAAS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOFAAS_ABI_VERSION 2u

/* Return values of sofaas_handler and sofaas_init. */
#define SOFAAS_OK 0
#define SOFAAS_ERROR 1

typedef struct sofaas_context sofaas_context;

typedef struct sofaas_host {
    /* Sets the invocation's output (copied; may be called again to replace it). Output
     * over 6 MiB fails the invocation. */
    void (*respond)(const sofaas_context* ctx, const void* data, size_t len);
    /* Marks the invocation failed with Lambda's errorType / errorMessage (both copied;
     * NULL or "" type means "FunctionError"). The handler should then return SOFAAS_ERROR;
     * once fail() is called the invocation fails whatever the handler returns. */
    void (*fail)(const sofaas_context* ctx, const char* error_type, const char* error_message);
    /* Writes one line to the function's log (to stderr, adding the '\n' if missing). It
     * lands in the log of the invocation in progress. */
    void (*log)(const sofaas_context* ctx, const char* message, size_t len);
    /* Milliseconds left before the deadline (Lambda's getRemainingTimeInMillis), never
     * negative; INT64_MAX during sofaas_init, which has no invocation deadline. */
    int64_t (*remaining_ms)(const sofaas_context* ctx);
} sofaas_host;

struct sofaas_context {
    uint32_t abi_version;      /* the ABI version the host implements (see Growth above) */
    const char* request_id;    /* empty during sofaas_init */
    const char* function_name;
    uint32_t function_version;
    uint32_t memory_limit_mb;
    const sofaas_host* host;
    void* host_data;           /* opaque to the function */

    /* Version 2 (check ctx->abi_version >= 2 first): who asked for the invocation, as
     * sofaasd authenticated them (Lambda's context.identity). Each is "" when it does not
     * apply: for an anonymous caller, the admin token, or sofaas's own runs. An
     * asynchronous invocation's runs carry whoever queued it. */
    const char* caller_key_id;   /* the API key, or a role session's temporary key (ASIA...) */
    const char* caller_role;     /* a session's role */
    const char* caller_user_sub; /* a session's signed-in user: the ID token's "sub" */
    const char* caller_schedule; /* a schedule's firing: the id of the schedule that fired */
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
