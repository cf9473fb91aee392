/* The C ABI as a strict C99 function uses it: compiled by tests/sdk/CMakeLists.txt. */
#include <sofaas/sofaas.h>

SOFAAS_DECLARE_ABI()

__attribute__((visibility("default"))) int sofaas_init(const sofaas_context* ctx) {
    ctx->host->log(ctx, "init", 4);
    return SOFAAS_OK;
}

__attribute__((visibility("default"))) int sofaas_handler(const sofaas_context* ctx, const uint8_t* event,
                                                          size_t len) {
    if (ctx->host->remaining_ms(ctx) < 10) {
        ctx->host->fail(ctx, "NoTime", "no time left");
        return SOFAAS_ERROR;
    }
    ctx->host->respond(ctx, event, len);
    return SOFAAS_OK;
}
