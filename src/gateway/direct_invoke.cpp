// POST /v1/functions/NAME/invoke[?version=N|?qualifier=ALIAS]: the payload is the event, the output is the
// body. The X-Sofaas-* headers carry what Lambda's REPORT line says. With
// X-Sofaas-Invocation-Type: Event the event is queued instead (202 once it is stored) and
// runs soon after (events/dispatcher.h).
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "events/dispatcher.h"
#include "gateway/awaitable_calls.h"
#include "gateway/control_api.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

enum class InvocationType { request_response, event };

constexpr size_t max_idempotency_key_bytes = 128;

bool is_valid_idempotency_key(std::string_view key) {
    if (key.empty() || key.size() > max_idempotency_key_bytes) return false;
    for (const char c : key) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

boost::asio::awaitable<HttpResponseParts> enqueue_event(HandlerContext& context, const IncomingRequest& request,
                                                        const FunctionVersionPtr& version, bool pinned,
                                                        const Principal& enqueuer) {
    std::optional<std::string> idempotency_key;
    if (const auto key = request.header("X-Sofaas-Idempotency-Key")) {
        if (!is_valid_idempotency_key(*key)) {
            co_return bad_request(fmt::format("The idempotency key must be 1 to {} printable ASCII characters",
                                              max_idempotency_key_bytes));
        }
        idempotency_key = std::string(*key);
    }
    QueuedEventResult queued = co_await queue_event(context, request.request_id, version, pinned, request.body,
                                                    std::move(idempotency_key), enqueuer);
    if (queued.refusal) co_return std::move(*queued.refusal);
    co_return json_response(202, nlohmann::json{{"request_id", queued.request_id},
                                                 {"status", queued.duplicate ? "duplicate" : "queued"}}
                                     .dump());
}

}  // namespace

boost::asio::awaitable<QueuedEventResult> queue_event(HandlerContext& context, const std::string& request_id,
                                                      const FunctionVersionPtr& version, bool pinned,
                                                      std::string_view payload,
                                                      std::optional<std::string> idempotency_key,
                                                      const Principal& enqueuer) {
    const auto refused = [](HttpResponseParts refusal) { return QueuedEventResult{{}, false, std::move(refusal)}; };
    if (payload.size() > max_event_payload_bytes) {
        co_return refused(error_response(
            413, "RequestTooLargeException",
            fmt::format("An asynchronous invocation's payload is at most {} bytes; this one has {}",
                        max_event_payload_bytes, payload.size())));
    }
    NewEvent event;
    event.request_id = request_id;
    event.function = version->spec.name;
    event.version = pinned ? version->spec.version : 0;
    event.trigger = Trigger::async;
    event.payload = payload;
    event.idempotency_key = std::move(idempotency_key);
    event.enqueued_ms = unix_now_ms();
    event.principal = enqueuer;
    const EnqueueResult result = co_await async_enqueue(context.services.dispatcher, std::move(event));
    switch (result.outcome) {
        case EnqueueOutcome::queued:
        case EnqueueOutcome::duplicate:
            co_return QueuedEventResult{result.request_id, result.outcome == EnqueueOutcome::duplicate, std::nullopt};
        case EnqueueOutcome::full:
            spdlog::warn("[{}] {}: event refused, its queue is full", request_id, version->spec.name);
            co_return refused(too_many_requests(fmt::format("The event queue of {} is full ({} events waiting)",
                                                            version->spec.name,
                                                            context.services.config.events.max_queued_per_function)));
        case EnqueueOutcome::failed: break;
    }
    spdlog::error("[{}] {}: event not stored: {}", request_id, version->spec.name, result.error);
    co_return refused(service_unavailable("The event could not be stored. Retry later."));
}

boost::asio::awaitable<HttpResponseParts> invoke_function(HandlerContext& context,
                                                          const IncomingRequest& request,
                                                          const std::string& function, const Principal& principal) {
    InvocationType type = InvocationType::request_response;
    if (const auto wanted = request.header("X-Sofaas-Invocation-Type")) {
        if (*wanted == "Event") {
            type = InvocationType::event;
        } else if (*wanted != "RequestResponse") {
            co_return bad_request("X-Sofaas-Invocation-Type must be RequestResponse or Event");
        }
    }
    // ?qualifier= is Lambda's (a version number, an alias or $LATEST); ?version=N is ours.
    const QueryParams params = parse_query(request.query());
    const auto wanted_version = find_param(params, "version");
    const auto wanted_qualifier = find_param(params, "qualifier");
    if (wanted_version && wanted_qualifier) co_return bad_request("Give either version or qualifier, not both");
    std::string qualifier = wanted_qualifier.value_or("");
    if (wanted_version) {
        const auto number = parse_unsigned(*wanted_version);
        if (!number || *number == 0) co_return bad_request("version must be a positive integer");
        qualifier = std::to_string(*number);
    }
    const ResolvedVersion resolved = context.services.registry.resolve(function, qualifier);
    if (!resolved.version) co_return unresolved_qualifier(resolved.failure, function, qualifier);
    const FunctionVersionPtr& version = resolved.version;
    if (type == InvocationType::event) {
        // A qualified event runs the version it resolved to now, as a pinned one.
        const bool pinned = !qualifier.empty() && qualifier != "$LATEST";
        HttpResponseParts queued = co_await enqueue_event(context, request, version, pinned, principal);
        co_return queued;
    }

    InvocationRequest invocation{version, request.body, Trigger::invoke, request.request_id};
    invocation.principal = principal;
    InvocationReport report = co_await async_invoke(context.services.scheduler, std::move(invocation));

    HttpResponseParts response;
    if (report.status == InvocationStatus::ok) {
        response.headers.emplace_back("Content-Type", "application/octet-stream");
        response.body = std::move(report.output);  // up to 6 MiB: moved, not copied
    } else {
        response = invocation_error(report);
    }
    add_invocation_headers(response, report);
    co_return response;
}

}  // namespace sofaas
