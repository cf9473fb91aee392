// Invoke, as Lambda answers it: X-Amz-Invocation-Type RequestResponse (200 and the output,
// or 200 with X-Amz-Function-Error: Unhandled and {"errorType", "errorMessage"} when the
// function failed), Event (202 once queued) or DryRun (204); X-Amz-Log-Type: Tail adds the
// invocation's log (X-Amz-Log-Result, base64 of its last 4 KB); X-Amz-Executed-Version.
// A retried call (the SDKs keep amz-sdk-invocation-id across retries) does not run again:
// RequestResponse waits for the first one's answer or gets it replayed (invocation_replay.h),
// Event is deduplicated by the event store, the invocation id being its idempotency key.
#include <nlohmann/json.hpp>

#include "gateway/auth.h"
#include "gateway/awaitable_calls.h"
#include "gateway/base64.h"
#include "gateway/control_api.h"
#include "gateway/invocation_replay.h"
#include "gateway/lambda_operations.h"
#include "gateway/responses.h"
#include "logs/function_logs.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

constexpr size_t log_tail_bytes = 4096;

// An event's idempotency key made of an invocation id: X-Sofaas-Idempotency-Key values hold
// no blank, so the two never collide.
constexpr std::string_view event_key_prefix = "amz-sdk-invocation-id ";

enum class LambdaInvocationType { request_response, event, dry_run };

// How Lambda answers an outcome: the output; the function's failure, still a 200; or the
// service's own failure, an error status.
enum class LambdaOutcome { output, function_error, service_error };

LambdaOutcome outcome_of(InvocationStatus status) {
    switch (status) {
        case InvocationStatus::ok: return LambdaOutcome::output;
        case InvocationStatus::error:
        case InvocationStatus::timeout:
        case InvocationStatus::crash:
        case InvocationStatus::oom: return LambdaOutcome::function_error;
        case InvocationStatus::host_fault:
        case InvocationStatus::throttled:
        case InvocationStatus::unavailable: break;
    }
    return LambdaOutcome::service_error;
}

// The caller's failure (throttled, the host's fault, billing unavailable) in Lambda's
// words; a function failure is not one of them.
HttpResponseParts service_failure(const InvocationReport& report) {
    const InvocationError error = error_of(report);
    const int status = http_status(report.status);
    const std::string_view type = report.status == InvocationStatus::throttled ? "TooManyRequestsException"
                                                                                : "ServiceException";
    return lambda_error(status, type, error.error_message);
}

// A RequestResponse invocation and Lambda's answer to it.
struct Answer {
    HttpResponseParts response;
    bool function_ran = false;  // else the service refused or failed it
};

boost::asio::awaitable<Answer> run_invocation(HandlerContext& context, const IncomingRequest& request,
                                              const Caller& caller, const FunctionVersionPtr& version, bool tail) {
    InvocationRequest invocation{version, request.body, Trigger::lambda_api, request.request_id};
    invocation.principal = caller.principal();
    InvocationReport report = co_await async_invoke(context.services.scheduler, std::move(invocation));
    HttpResponseParts response;
    switch (outcome_of(report.status)) {
        case LambdaOutcome::output:
            response.status = 200;
            response.headers.emplace_back("Content-Type", "application/json");
            response.body = std::move(report.output);
            break;
        case LambdaOutcome::function_error: {
            const InvocationError error = error_of(report);
            response = json_response(200, error_json(error.error_type, error.error_message));
            response.headers.emplace_back("X-Amz-Function-Error", "Unhandled");
            break;
        }
        case LambdaOutcome::service_error: response = service_failure(report); break;
    }
    response.headers.emplace_back("X-Amz-Executed-Version", std::to_string(report.version));
    if (tail && report.status != InvocationStatus::throttled && report.status != InvocationStatus::unavailable) {
        response.headers.emplace_back("X-Amz-Log-Result", base64_encode(invocation_log_text(report, log_tail_bytes)));
    }
    co_return Answer{std::move(response), outcome_of(report.status) != LambdaOutcome::service_error};
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> lambda_invoke(HandlerContext& context, const IncomingRequest& request,
                                                        const Caller& caller, const FunctionReference& reference) {
    LambdaInvocationType type = LambdaInvocationType::request_response;
    if (const auto header = request.header("X-Amz-Invocation-Type")) {
        if (*header == "Event") {
            type = LambdaInvocationType::event;
        } else if (*header == "DryRun") {
            type = LambdaInvocationType::dry_run;
        } else if (*header != "RequestResponse") {
            co_return lambda_error(400, "InvalidParameterValueException",
                                   "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun");
        }
    }
    bool tail = false;
    if (const auto header = request.header("X-Amz-Log-Type")) {
        if (*header != "None" && *header != "Tail") {
            co_return lambda_error(400, "InvalidParameterValueException", "X-Amz-Log-Type must be None or Tail");
        }
        tail = *header == "Tail";
    }
    // Lambda takes JSON events only; an empty body is the empty event.
    if (!request.body.empty() && !nlohmann::json::accept(request.body)) {
        co_return lambda_error(400, "InvalidRequestContentException", "Could not parse request body into json");
    }
    std::optional<HttpResponseParts> refusal;
    const FunctionVersionPtr version = resolve_function(context, reference, &refusal);
    if (!version) co_return std::move(*refusal);
    const std::string executed = std::to_string(version->spec.version);

    if (type == LambdaInvocationType::dry_run) {
        HttpResponseParts checked{204, {}, {}};
        checked.headers.emplace_back("X-Amz-Executed-Version", executed);
        co_return checked;
    }
    std::optional<std::string> invocation_id;
    if (const auto header = request.header("amz-sdk-invocation-id"); header && is_valid_invocation_id(*header)) {
        invocation_id = std::string(*header);
    }
    if (type == LambdaInvocationType::event) {
        // Pinned when a qualifier chose the version, as Lambda runs what the qualifier named.
        const bool pinned = !reference.qualifier.empty() && reference.qualifier != "$LATEST";
        std::optional<std::string> idempotency_key;
        if (invocation_id) idempotency_key = std::string(event_key_prefix) + *invocation_id;
        const Principal enqueuer = caller.principal();
        QueuedEventResult queued = co_await queue_event(context, request.request_id, version, pinned, request.body,
                                                        std::move(idempotency_key), enqueuer);
        if (queued.refusal) co_return as_lambda_error(*queued.refusal);
        co_return HttpResponseParts{202, {}, {}};
    }

    if (!invocation_id) {
        Answer answer = co_await run_invocation(context, request, caller, version, tail);
        co_return std::move(answer.response);
    }
    const std::string caller_id = caller.principal().key_id;
    InvocationKey key{caller_id.empty() ? "admin" : caller_id, version->spec.name,
                      std::move(*invocation_id)};
    JoinedInvocation joined = co_await async_join_invocation(context.invocations, std::move(key));
    if (joined.answer) co_return std::move(*joined.answer);
    Answer answer = co_await run_invocation(context, request, caller, version, tail);
    // Only an invocation that ran is replayed: a throttled one's retry should run it.
    if (answer.function_ran) {
        joined.claim->finish(answer.response, std::chrono::seconds(version->spec.timeout_s));
    } else {
        joined.claim->release(answer.response);
    }
    co_return std::move(answer.response);
}

}  // namespace sofaas
