// PUT /v1/functions/NAME: stage the library, prove it loads in a throwaway worker, and only
// then publish it. A library that cannot load never becomes a version.
// PATCH /v1/functions/NAME: the same library with new settings, as a new version; tried
// only when the handler changes, since nothing else the worker loads does.
#include <array>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "billing/ledger.h"
#include "common/function_spec.h"
#include "gateway/awaitable_calls.h"
#include "gateway/control_api.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "registry/deploy_settings.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

// Settings may come as headers instead of query parameters (handy for curl -T).
constexpr std::array<std::pair<std::string_view, std::string_view>, 16> setting_headers{{
    {"X-Sofaas-Handler", "handler"},
    {"X-Sofaas-Memory", "memory"},
    {"X-Sofaas-Timeout", "timeout"},
    {"X-Sofaas-Ephemeral-Storage", "ephemeral_storage"},
    {"X-Sofaas-Env", "env"},
    {"X-Sofaas-Route", "route"},
    {"X-Sofaas-Min-Warm", "min_warm"},
    {"X-Sofaas-Max-Concurrency", "max_concurrency"},
    {"X-Sofaas-Auth", "auth"},
    {"X-Sofaas-Jwt-Pool", "jwt_pool"},
    {"X-Sofaas-Jwt-Scope", "jwt_scope"},
    {"X-Sofaas-Expose-Errors", "expose_errors"},
    {"X-Sofaas-Async-Retries", "async_retries"},
    {"X-Sofaas-Max-Event-Age", "max_event_age"},
    {"X-Sofaas-On-Success", "on_success"},
    {"X-Sofaas-On-Failure", "on_failure"},
}};

QueryParams deploy_params(const IncomingRequest& request) {
    QueryParams params = parse_query(request.query());
    for (const auto& [header, key] : setting_headers) {
        for (std::string_view value : request.header_values(header)) params.emplace_back(key, value);
    }
    return params;
}


// Tries the staged version in a throwaway worker (when `trial`), then publishes it and lets
// the scheduler and the routes know.
boost::asio::awaitable<PublishResult> publish_staged(HandlerContext& context, const std::string& request_id,
                                                     StagedVersion staged, bool trial) {
    const GatewayServices& services = context.services;
    const auto refused = [](HttpResponseParts refusal) { return PublishResult{nullptr, std::move(refusal)}; };
    const std::string function = staged.function;
    // The trial worker sees version 0: the number is only assigned when the version is published.
    std::optional<TrialLoadFailure> load_failure;
    if (trial) load_failure = co_await async_trial_load(services.pool, staged.candidate);
    if (load_failure) {
        co_await run_blocking(context.disk_work, [&] { services.registry.discard(std::move(staged)); });
        if (load_failure->host_fault) {
            // The library was never tried: refusing it as invalid would blame the wrong party.
            spdlog::error("[{}] deploy of {} failed: {}", request_id, function, load_failure->error_message);
            co_return refused(host_fault(load_failure->error_message));
        }
        const std::string reason = load_failure->error_type + ": " + load_failure->error_message;
        spdlog::info("[{}] deploy of {} rejected: {}", request_id, function, reason);
        co_return refused(invalid_library(reason));
    }

    FunctionVersionPtr published;
    uint32_t replaced = 0;
    try {
        co_await run_blocking(context.disk_work,
                              [&] { published = services.registry.publish(std::move(staged), &replaced); });
    } catch (const RegistryError& error) {
        spdlog::error("[{}] deploy of {} not published: {}", request_id, function, error.what());
        co_return refused(registry_error(error));
    }
    services.scheduler.activate(published, replaced);
    context.refresh_routes();
    spdlog::info("[{}] published {} version {} ({} bytes)", request_id, function, published->spec.version,
                 published->spec.size_bytes);
    co_return PublishResult{published, std::nullopt};
}

std::optional<HttpResponseParts> refused_settings(const std::string& function, const FunctionSettings& settings) {
    // A function that is its own destination would feed itself for ever.
    if (settings.on_success == function || settings.on_failure == function) {
        return bad_request("on_success and on_failure must name another function, not " + function);
    }
    return std::nullopt;
}

}  // namespace

boost::asio::awaitable<PublishResult> publish_library(HandlerContext& context, const std::string& request_id,
                                                     const std::string& function, std::string_view library,
                                                     const FunctionSettings& settings) {
    const GatewayServices& services = context.services;
    const auto refused = [](HttpResponseParts refusal) { return PublishResult{nullptr, std::move(refusal)}; };
    if (library.empty()) co_return refused(invalid_library("The library is empty: send the function's .so file."));
    if (auto refusal = refused_settings(function, settings)) co_return refused(std::move(*refusal));
    // The trial load is an init, billed like any other: not while it cannot be recorded.
    if (!services.ledger.writable()) {
        co_return refused(
            service_unavailable("The library cannot be tried now: its init could not be billed. Retry later."));
    }
    // The registry's writes and fsyncs run off the io thread (HandlerContext::disk_work): a
    // 64 MiB library must not hold up the calls on this thread meanwhile.
    std::optional<StagedVersion> staged;
    try {
        co_await run_blocking(context.disk_work, [&] { staged = services.registry.stage(function, library, settings); });
    } catch (const RegistryError& error) {
        spdlog::warn("[{}] deploy of {} not staged: {}", request_id, function, error.what());
        co_return refused(registry_error(error));
    }
    PublishResult result = co_await publish_staged(context, request_id, std::move(*staged), true);
    co_return result;
}

boost::asio::awaitable<PublishResult> publish_settings(HandlerContext& context, const std::string& request_id,
                                                      const FunctionVersionPtr& current,
                                                      const FunctionSettings& settings) {
    const GatewayServices& services = context.services;
    const auto refused = [](HttpResponseParts refusal) { return PublishResult{nullptr, std::move(refusal)}; };
    const std::string& function = current->spec.name;
    if (auto refusal = refused_settings(function, settings)) co_return refused(std::move(*refusal));
    const bool new_handler = settings.handler != current->spec.handler;
    if (new_handler && !services.ledger.writable()) {
        co_return refused(
            service_unavailable("The new handler cannot be tried now: its init could not be billed. Retry later."));
    }
    std::optional<StagedVersion> staged;
    try {
        co_await run_blocking(context.disk_work, [&] { staged = services.registry.stage_settings(current, settings); });
    } catch (const RegistryError& error) {
        spdlog::warn("[{}] settings of {} not staged: {}", request_id, function, error.what());
        co_return refused(registry_error(error));
    }
    PublishResult result = co_await publish_staged(context, request_id, std::move(*staged), new_handler);
    co_return result;
}

boost::asio::awaitable<HttpResponseParts> deploy_function(HandlerContext& context,
                                                          const IncomingRequest& request,
                                                          const std::string& function) {
    const GatewayServices& services = context.services;
    if (request.body.empty()) {
        co_return invalid_library("The request body is empty: send the function's .so file.");
    }
    FunctionSettings settings;
    try {
        settings = parse_deploy_settings(deploy_params(request), services.config.defaults,
                                         services.config.limits, services.config.allow_loader_environment);
    } catch (const DeploySettingsError& error) {
        co_return bad_request(error.what());
    }
    PublishResult result = co_await publish_library(context, request.request_id, function, request.body, settings);
    if (result.refusal) co_return std::move(*result.refusal);
    co_return json_response(201, spec_to_json(result.version->spec));
}

boost::asio::awaitable<HttpResponseParts> update_function_settings(HandlerContext& context,
                                                                   const IncomingRequest& request,
                                                                   const std::string& function) {
    const GatewayServices& services = context.services;
    if (!request.body.empty()) {
        co_return bad_request("A settings update takes no body: new code is a deploy (PUT).");
    }
    const FunctionVersionPtr current = services.registry.latest(function);
    if (!current) co_return not_found(fmt::format("Function not found: {}", function));
    FunctionSettings settings;
    try {
        settings = parse_settings_update(deploy_params(request), current->spec, services.config.limits,
                                         services.config.allow_loader_environment);
    } catch (const DeploySettingsError& error) {
        co_return bad_request(error.what());
    }
    PublishResult result = co_await publish_settings(context, request.request_id, current, settings);
    if (result.refusal) co_return std::move(*result.refusal);
    co_return json_response(200, spec_to_json(result.version->spec));
}

}  // namespace sofaas
