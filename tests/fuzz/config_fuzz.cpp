// Config parsing (common/config.h parse_config): any bytes as config/sofaasd.json.
// Properties: a bad config is a ConfigError naming the key, never another exception;
// an accepted one keeps the cross-field rules.
#include <string_view>

#include "common/config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sofaas;
    Config config;
    try {
        config = parse_config(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const ConfigError&) {
        return 0;
    }
    fuzz::check(config.defaults.timeout_s <= config.limits.max_timeout_s,
                "the default timeout is allowed by the limits");
    fuzz::check(config.defaults.memory_mb <= config.limits.max_memory_mb,
                "the default memory is allowed by the limits");
    fuzz::check(io_thread_count(config) >= 1 && io_thread_count(config) <= 256, "between 1 and 256 io threads");
    fuzz::check(!config.data_dir.empty(), "a data directory");
    return 0;
}
