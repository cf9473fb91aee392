/* c-hello: a function in plain C, straight on the ABI of <sofaas/sofaas.h>.
 *
 *   $ sofaas invoke c-hello --data sofaas
 *   Hello from C, sofaas!
 */
#include <sofaas/sofaas.h>

#include <stdio.h>
#include <stdlib.h>

SOFAAS_DECLARE_ABI()

__attribute__((visibility("default"))) int sofaas_handler(const sofaas_context* ctx,
                                                          const uint8_t* event, size_t len) {
    const char* name = len > 0 ? (const char*)event : "world";
    const int name_len = len > 0 ? (int)len : 5;
    /* %.*s: the event is bytes, not a NUL-terminated string. */
    const int size = snprintf(NULL, 0, "Hello from C, %.*s!", name_len, name);
    char* greeting = malloc((size_t)size + 1);
    if (!greeting) {
        ctx->host->fail(ctx, "OutOfMemory", "cannot allocate the greeting");
        return SOFAAS_ERROR;
    }
    snprintf(greeting, (size_t)size + 1, "Hello from C, %.*s!", name_len, name);
    ctx->host->respond(ctx, greeting, (size_t)size); /* copied by the host */
    free(greeting);
    return SOFAAS_OK;
}
