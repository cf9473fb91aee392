// Deploy settings parsing (registry/deploy_settings.h parse_deploy_settings): the query
// parameters or X-Sofaas-* headers of a PUT /v1/functions/NAME. Input: KEY=VALUE lines.
// Properties: a bad setting is a DeploySettingsError (a 400), never another exception;
// accepted settings are within the limits and survive spec.json unchanged.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/function_spec.h"
#include "fuzz_input.h"
#include "gateway/utf8.h"
#include "registry/deploy_settings.h"

namespace {

using namespace sofaas;

bool all_utf8(const FunctionSpec& spec) {
    return std::all_of(spec.env.begin(), spec.env.end(),
                       [](const auto& variable) { return is_valid_utf8(variable.second); });
}

void check_spec_json_round_trip(FunctionSpec spec) {
    spec.name = "fuzz";
    spec.version = 1;
    spec.sha256 = std::string(64, '0');
    spec.created_at = "2026-11-27T00:00:00.000000Z";
    const FunctionSpec read = spec_from_json(spec_to_json(spec));
    auto sorted = [](auto env) {
        std::sort(env.begin(), env.end());
        return env;
    };
    fuzz::check(read.handler == spec.handler && read.memory_mb == spec.memory_mb &&
                    read.timeout_s == spec.timeout_s && read.min_warm == spec.min_warm &&
                    read.max_concurrency == spec.max_concurrency && read.auth == spec.auth &&
                    read.routes == spec.routes,
                "spec.json keeps every setting");
    // Bytes that are not UTF-8 cannot be kept by JSON text; UTF-8 values must be.
    if (all_utf8(spec)) fuzz::check(sorted(read.env) == sorted(spec.env), "spec.json keeps env");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::FuzzInput input(data, size);
    std::vector<std::pair<std::string, std::string>> params;
    while (!input.empty()) {
        const std::string_view line = input.line();
        const size_t equals = line.find('=');
        params.emplace_back(std::string(line.substr(0, equals)),
                            equals == std::string_view::npos ? std::string()
                                                             : std::string(line.substr(equals + 1)));
    }
    const FunctionDefaults defaults;
    const Limits limits;
    FunctionSettings settings;
    try {
        settings = parse_deploy_settings(params, defaults, limits);
    } catch (const DeploySettingsError&) {
        return 0;
    }
    fuzz::check(settings.memory_mb >= 128 && settings.memory_mb <= limits.max_memory_mb,
                "memory within limits");
    fuzz::check(settings.timeout_s >= 1 && settings.timeout_s <= limits.max_timeout_s,
                "timeout within limits");
    fuzz::check(settings.min_warm <= settings.max_concurrency, "min_warm <= max_concurrency");
    for (const Route& route : settings.routes) {
        fuzz::check(route.path.starts_with('/'), "route paths are absolute");
        for (const std::string reserved : {"/fn", "/v1", "/healthz"})
            fuzz::check(route.path != reserved && !route.path.starts_with(reserved + "/"),
                        "routes stay off the daemon's paths");
    }
    check_spec_json_round_trip(settings);
    return 0;
}
