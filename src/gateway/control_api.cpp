// Routing of /v1 and the read-only and delete handlers. Deploy and invoke, which run a
// function's code, live in deploy.cpp and direct_invoke.cpp.
#include "gateway/control_api.h"

#include <algorithm>
#include <variant>

#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "billing/activity.h"
#include "billing/billing_export.h"
#include "billing/billing_record.h"
#include "billing/ledger.h"
#include "billing/rollups.h"
#include "cluster/cluster_billing.h"
#include "store/postgres_connection.h"
#include "common/time.h"
#include "events/event_store.h"
#include "gateway/auth.h"
#include "gateway/awaitable_calls.h"
#include "gateway/log_follow.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "gateway/site_serving.h"
#include "logs/function_logs.h"
#include "pool/pool.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

constexpr size_t default_log_lines = 100;
constexpr uint32_t max_activity_step_s = 7 * 24 * 3600;

std::vector<std::string> decoded_path_segments(std::string_view path) {
    std::vector<std::string> segments;
    for (const std::string_view segment : path_segments(path)) segments.push_back(percent_decode(segment, false));
    return segments;
}

// Joins JSON texts made elsewhere (spec_to_json, to_json(LogLine)) without re-parsing.
template <typename Range, typename ToJson>
std::string json_array(const Range& items, ToJson to_json) {
    std::string out = "[";
    for (const auto& item : items) {
        if (out.size() > 1) out += ',';
        out += to_json(item);
    }
    return out + "]";
}

HttpResponseParts function_not_found(std::string_view function) {
    return not_found(fmt::format("Function not found: {}", function));
}

HttpResponseParts list_functions(HandlerContext& context) {
    const auto functions = context.services.registry.list_latest();
    return json_response(200, "{\"functions\":" +
                                  json_array(functions, [](const FunctionVersionPtr& v) { return spec_to_json(v->spec); }) +
                                  "}");
}

HttpResponseParts describe_function(HandlerContext& context, const std::string& function) {
    const FunctionVersionPtr latest = context.services.registry.latest(function);
    if (!latest) return function_not_found(function);
    const PoolStats workers = context.services.pool.stats(function, latest->spec.version);
    const nlohmann::json versions = context.services.registry.versions(function);
    nlohmann::json worker_state = {{"idle", workers.idle}, {"busy", workers.busy}};
    if (workers.warm_failures > 0) {
        worker_state["warm_failures"] = workers.warm_failures;
        worker_state["warm_failure"] = workers.warm_failure;
    }
    return json_response(200, fmt::format(R"({{"function":{},"versions":{},"workers":{}}})", spec_to_json(latest->spec),
                                          versions.dump(), worker_state.dump()));
}

// DELETE /v1/functions/NAME (remove_function): the answer counts the queued events dropped.
HttpResponseParts delete_function(HandlerContext& context, const IncomingRequest& request, const std::string& function) {
    const DeleteResult deleted = remove_function(context, request.request_id, function);
    if (deleted.refusal) return *deleted.refusal;
    return json_response(200, nlohmann::json{{"deleted", function}, {"events_dropped", deleted.events_dropped}}.dump());
}

// GET .../logs?tail=N&since=TIME&request_id=ID[&follow=1]: the query, or a 400 naming the
// parameter and what it takes.
std::variant<LogQuery, HttpResponseParts> read_log_query(const IncomingRequest& request) {
    const QueryParams params = parse_query(request.query());
    LogQuery query;
    query.count = default_log_lines;
    if (const auto tail = find_param(params, "tail")) {
        const auto parsed = parse_unsigned(*tail);
        if (!parsed) return bad_request("tail must be a number of lines");
        if (*parsed > max_log_tail_lines) {
            return bad_request(fmt::format("tail must be at most {} lines: got {}", max_log_tail_lines, *tail));
        }
        query.count = *parsed;
    }
    if (const auto since = find_param(params, "since")) {
        query.since = parse_time_spec(*since, wall_now());
        if (!query.since) {
            return bad_request(fmt::format("since must be RFC 3339 (2026-11-27T18:00:00Z), a date (2026-11-27) "
                                           "or relative (30m, 1h, 2d): got '{}'",
                                           *since));
        }
    }
    if (const auto request_id = find_param(params, "request_id")) {
        if (request_id->empty() || request_id->size() > 128) return bad_request("request_id must be 1 to 128 characters");
        query.request_id = std::string(*request_id);
    }
    return query;
}

bool wants_follow(const IncomingRequest& request) {
    const auto follow = find_param(parse_query(request.query()), "follow");
    return follow && (*follow == "1" || *follow == "true");
}

HttpResponseParts function_logs(HandlerContext& context, const std::string& function, const LogQuery& query) {
    if (!context.services.registry.latest(function)) return function_not_found(function);
    const auto lines = context.services.logs.tail(function, query);
    return json_response(200, "{\"lines\":" +
                                  json_array(lines, [](const LogLine& line) { return to_json(line); }) + "}");
}

// ?since= and ?until= of /v1/billing and .../activity into `query`; the refusal when one
// is unreadable.
std::optional<HttpResponseParts> read_time_bounds(const QueryParams& params, WallTime now, LedgerQuery& query) {
    for (const auto& [key, bound] : {std::pair{"since", &query.since}, std::pair{"until", &query.until}}) {
        if (const auto text = find_param(params, key)) {
            *bound = parse_time_spec(*text, now);
            if (!*bound) {
                return bad_request(fmt::format("{} must be RFC 3339 (2026-11-27T18:00:00Z), a date "
                                               "(2026-11-27) or relative (30m, 1h, 2d): got '{}'",
                                               key, *text));
            }
        }
    }
    return std::nullopt;
}

// The summary from the rollups: whole minutes (rollups.h), and the range it covers.
HttpResponseParts rolled_up_billing(HandlerContext& context, const IncomingRequest& request, const LedgerQuery& query) {
    RollupSummary answer;
    try {
        answer = context.services.rollups->summarize(RollupQuery{query.function, query.since, query.until});
    } catch (const EventStoreError& e) {
        spdlog::error("[{}] billing rollups: {}", request.request_id, e.what());
        return service_unavailable("The billing summary cannot be read now. Retry later.");
    }
    nlohmann::ordered_json body = nlohmann::ordered_json::parse(summary_to_json(answer.summary));
    body["since"] = answer.since ? nlohmann::ordered_json(format_rfc3339(*answer.since)) : nullptr;
    body["until"] = answer.until ? nlohmann::ordered_json(format_rfc3339(*answer.until)) : nullptr;
    return json_response(200, body.dump());
}

// The whole cluster's summary, from the records every node ships to the shared database:
// exact, and the range as asked.
HttpResponseParts cluster_billing(HandlerContext& context, const IncomingRequest& request, const LedgerQuery& query) {
    BillingSummary summary;
    try {
        summary = context.services.cluster_billing->summarize(query.function, query.since, query.until);
    } catch (const PostgresError& e) {
        spdlog::error("[{}] cluster billing: {}", request.request_id, e.what());
        return service_unavailable(
            "The cluster's billing summary cannot be read now: its database does not answer. Retry later; "
            "?records=1 lists this node's own records meanwhile.");
    }
    nlohmann::ordered_json body = nlohmann::ordered_json::parse(summary_to_json(summary));
    body["since"] = query.since ? nlohmann::ordered_json(format_rfc3339(*query.since)) : nullptr;
    body["until"] = query.until ? nlohmann::ordered_json(format_rfc3339(*query.until)) : nullptr;
    body["scope"] = "cluster";
    return json_response(200, body.dump());
}

HttpResponseParts billing(HandlerContext& context, const IncomingRequest& request) {
    const QueryParams params = parse_query(request.query());
    LedgerQuery query;
    query.function = find_param(params, "function");
    if (auto refusal = read_time_bounds(params, wall_now(), query)) return *refusal;
    const auto with_records = find_param(params, "records");
    const bool records_wanted = with_records && (*with_records == "true" || *with_records == "1");
    // With the records, the summary is theirs: exact to the microsecond, like them.
    if (!records_wanted && context.services.cluster_billing != nullptr) return cluster_billing(context, request, query);
    if (!records_wanted && context.services.rollups != nullptr) return rolled_up_billing(context, request, query);

    const auto records = context.services.ledger.query(query);
    const std::string summary = summary_to_json(summarize(records));
    if (!records_wanted) return json_response(200, summary);

    nlohmann::json body = nlohmann::json::parse(summary);
    nlohmann::json& lines = body["records"] = nlohmann::json::array();
    for (const InvocationReport& record : records) lines.push_back(nlohmann::json::parse(record_to_json(record)));
    return json_response(200, body.dump());
}

// GET /v1/billing/export: the records of a range as CSV or JSON lines, read an hour of
// records at a time on the disk-work thread and sent as each hour is read, so a month of
// records costs the daemon one hour's memory, and a slow reader holds up nobody.
class BillingExport : public StreamedBody {
public:
    BillingExport(HandlerContext& context, LedgerCursor cursor, ExportFormat format, std::string request_id)
        : context_(context), cursor_(std::move(cursor)), format_(format), request_id_(std::move(request_id)) {}

    boost::asio::awaitable<std::optional<std::string>> next() override {
        if (abandoned_ || finished_) co_return std::nullopt;
        std::string chunk;
        if (!started_) {
            started_ = true;
            chunk = export_header(format_);
        }
        // The connection holds this stream until next() returns. Captures by reference only:
        // GCC 12 destroys a co_await operand's temporaries twice, and a lambda holding a
        // shared_ptr there corrupts the heap.
        co_await run_blocking(context_.disk_work, [this, &chunk] {
            const auto records = cursor_.next();
            if (records.empty()) {
                finished_ = true;
                return;
            }
            append_export_rows(chunk, records, format_);
        });
        if (finished_ && cursor_.skipped_lines() > 0) {
            spdlog::warn("[{}] billing export: {} torn or corrupt ledger lines skipped", request_id_,
                         cursor_.skipped_lines());
        }
        if (chunk.empty()) co_return std::nullopt;
        co_return chunk;
    }
    void abandon() override { abandoned_ = true; }

private:
    HandlerContext& context_;
    LedgerCursor cursor_;
    const ExportFormat format_;
    const std::string request_id_;
    bool started_ = false;
    bool finished_ = false;
    bool abandoned_ = false;  // on the connection's executor, as next()
};

HttpResponseParts billing_export(HandlerContext& context, const IncomingRequest& request) {
    const QueryParams params = parse_query(request.query());
    const auto format_text = find_param(params, "format");
    const auto format = parse_export_format(format_text.value_or("csv"));
    if (!format) return bad_request(fmt::format("format must be csv or jsonl: got '{}'", *format_text));
    LedgerQuery query;
    query.function = find_param(params, "function");
    if (auto refusal = read_time_bounds(params, wall_now(), query)) return *refusal;
    HttpResponseParts response;
    response.headers.emplace_back("Content-Type", std::string(content_type_of(*format)));
    response.stream =
        std::make_shared<BillingExport>(context, context.services.ledger.cursor(query), *format, request.request_id);
    return response;
}

// GET /v1/functions/NAME/activity?since=1h&until=...&step=60: the function's ledger records
// and throttles in time buckets (billing/activity.h), by default the last hour by minute.
HttpResponseParts function_activity(HandlerContext& context, const IncomingRequest& request,
                                    const std::string& function) {
    if (!context.services.registry.latest(function)) return function_not_found(function);
    const QueryParams params = parse_query(request.query());
    const WallTime now = wall_now();
    LedgerQuery query;
    query.function = function;
    if (auto refusal = read_time_bounds(params, now, query)) return *refusal;
    ActivityRange range;
    range.since = query.since.value_or(now - std::chrono::hours(1));
    range.until = query.until.value_or(now);
    if (range.until <= range.since) return bad_request("until must be later than since");
    if (const auto step = find_param(params, "step")) {
        const auto seconds = parse_unsigned(*step);
        if (!seconds || *seconds == 0 || *seconds > max_activity_step_s) {
            return bad_request(fmt::format("step must be a number of seconds from 1 to {}: got '{}'",
                                           max_activity_step_s, *step));
        }
        range.step = std::chrono::seconds(*seconds);
    }
    const size_t buckets = activity_bucket_count(range);
    if (buckets > max_activity_buckets) {
        return bad_request(fmt::format("since, until and step make {} buckets; at most {} are allowed "
                                       "(a larger step or a shorter range)",
                                       buckets, max_activity_buckets));
    }
    // The first bucket may start before `since` (activity.h): its records are read too.
    query.since = range.since - std::chrono::duration_cast<WallTime::duration>(range.step);
    query.until = range.until;
    const auto records = context.services.ledger.query(query);
    const auto throttles = context.services.scheduler.throttles().counts_since(function, *query.since);
    return json_response(200, activity_to_json(function, range, bucket_activity(records, throttles, range)));
}

// For handlers that read files of any size (the whole ledger, a function's log): on the
// disk-work thread, so that the calls on this io thread are answered meanwhile.
template <typename Read>
boost::asio::awaitable<HttpResponseParts> read_off_the_io_thread(HandlerContext& context, Read read) {
    HttpResponseParts response;
    co_await run_blocking(context.disk_work, [&] { response = read(); });
    co_return response;
}

// The lines there are, then every new one, as application/x-ndjson (log_follow.h).
boost::asio::awaitable<HttpResponseParts> follow_logs(HandlerContext& context, const IncomingRequest& request,
                                                      const std::string& function, const LogQuery& query) {
    const auto executor = co_await boost::asio::this_coro::executor;
    std::shared_ptr<LogStream> stream = context.followers.open(executor, function, request.request_id);
    if (!stream) {
        spdlog::warn("[{}] log stream of {} refused: {} followers already", request.request_id, function,
                     context.followers.open_count());
        co_return too_many_requests(fmt::format("At most {} log streams may be open at once (logs.max_followers)",
                                                context.services.config.logs.max_followers));
    }
    bool found = true;
    co_await run_blocking(context.disk_work, [&] {
        found = context.services.registry.latest(function) != nullptr;
        if (found) stream->start_with(context.services.logs.follow(function, query, stream));
    });
    if (!found) co_return function_not_found(function);
    HttpResponseParts response;
    response.headers.emplace_back("Content-Type", "application/x-ndjson");
    response.headers.emplace_back("Cache-Control", "no-store");
    response.stream = std::move(stream);
    co_return response;
}

}  // namespace

DeleteResult remove_function(HandlerContext& context, const std::string& request_id, const std::string& function) {
    if (!context.services.registry.latest(function)) return DeleteResult{0, function_not_found(function)};
    uint64_t dropped = 0;
    try {
        dropped = context.services.events.remove_function(function);
    } catch (const EventStoreError& e) {
        spdlog::error("[{}] {}: not deleted, its queued events cannot be dropped: {}", request_id, function, e.what());
        return DeleteResult{0, service_unavailable("The function's queued events cannot be dropped now. Retry later.")};
    }
    try {
        if (!context.services.registry.remove(function)) return DeleteResult{0, function_not_found(function)};
    } catch (const RegistryError& e) {
        spdlog::error("[{}] {}: not deleted: {}", request_id, function, e.what());
        return DeleteResult{0, registry_error(e)};
    }
    context.services.scheduler.remove(function);
    context.services.logs.remove(function);
    context.refresh_routes();
    try {
        dropped += context.services.events.remove_function(function);
    } catch (const EventStoreError& e) {
        spdlog::error("[{}] {}: events queued during its deletion not dropped: {}", request_id, function, e.what());
    }
    return DeleteResult{dropped, std::nullopt};
}

boost::asio::awaitable<HttpResponseParts> handle_control_api(HandlerContext& context,
                                                             const IncomingRequest& request) {
    const Caller caller = identify_caller(request, trusted_credentials(context.services));
    if (!caller.known()) co_return unauthorized(caller);

    const std::vector<std::string> path = decoded_path_segments(request.path());
    const std::string& method = request.method;
    const auto unsupported = [&] { return method_not_allowed(method, request.path()); };

    // An invoke key may call the functions it names; everything else is an admin's.
    const bool invocation = path.size() == 4 && path[1] == "functions" && path[3] == "invoke" && method == "POST";
    // Temporary credentials are the Lambda API's, as AWS's are (lambda_api.h).
    if (caller.kind == CallerKind::session) {
        co_return forbidden("Temporary credentials sign requests to the Lambda API, not to the control API");
    }
    if (invocation && !caller.may_invoke(path[2], "")) co_return forbidden("This key may not invoke " + path[2]);
    if (!invocation && !caller.is_admin()) co_return forbidden(std::string(caller.what_the_key_may_do()));

    if (path.size() >= 2 && path[1] == "sites") {
        HttpResponseParts answer = co_await handle_sites_api(context, request, path);
        co_return answer;
    }
    if (path.size() >= 2 && path[1] == "roles") {
        HttpResponseParts answer = co_await handle_roles_api(context, request, path);
        co_return answer;
    }
    if (path.size() >= 2 && path[1] == "keys") {
        HttpResponseParts answer = co_await handle_keys_api(context, request, path);
        co_return answer;
    }
    if (path.size() >= 2 && path[1] == "user-pools") {
        HttpResponseParts answer = co_await handle_user_pools_api(context, request, path);
        co_return answer;
    }
    if (path.size() == 2 && path[1] == "billing") {
        if (method != "GET") co_return unsupported();
        HttpResponseParts answer = co_await read_off_the_io_thread(context, [&] { return billing(context, request); });
        co_return answer;
    }
    if (path.size() == 3 && path[1] == "billing" && path[2] == "export") {
        if (method != "GET") co_return unsupported();
        // Listing the segments reads a directory: off the io thread too.
        HttpResponseParts answer = co_await read_off_the_io_thread(context, [&] { return billing_export(context, request); });
        co_return answer;
    }
    if (path.size() == 2 && path[1] == "schedules") {
        if (method != "GET") co_return unsupported();
        HttpResponseParts answer = co_await read_off_the_io_thread(context, [&] {
            try {
                return list_all_schedules(context);
            } catch (const EventStoreError& e) {
                spdlog::error("[{}] event store: {}", request.request_id, e.what());
                return service_unavailable("The event store cannot be read now. Retry later.");
            }
        });
        co_return answer;
    }
    if (path.size() < 2 || path[1] != "functions") {
        co_return not_found(fmt::format("No such API: {} {}", method, request.path()));
    }
    if (path.size() == 2) co_return method == "GET" ? list_functions(context) : unsupported();

    // A bad name is a 400 whatever follows it: "/v1/functions/../../etc" names nothing.
    const std::string& function = path[2];
    if (!is_valid_function_name(function)) co_return invalid_function_name(function);
    if (path.size() >= 4 && (path[3] == "queue" || path[3] == "dead-letters" || path[3] == "schedules")) {
        HttpResponseParts answer = co_await handle_events_api(context, request, path);
        co_return answer;
    }
    if ((path.size() == 4 || path.size() == 5) && path[3] == "aliases") {
        HttpResponseParts answer =
            co_await read_off_the_io_thread(context, [&] { return aliases_api(context, request, path, function); });
        co_return answer;
    }
    if (path.size() > 4) co_return not_found(fmt::format("No such API: {} {}", method, request.path()));
    if (path.size() == 3) {
        if (method == "PUT") {
            HttpResponseParts deployed = co_await deploy_function(context, request, function);
            co_return deployed;
        }
        if (method == "PATCH") {
            HttpResponseParts updated = co_await update_function_settings(context, request, function);
            co_return updated;
        }
        if (method == "GET") co_return describe_function(context, function);
        if (method == "DELETE") {
            HttpResponseParts answer =
                co_await read_off_the_io_thread(context, [&] { return delete_function(context, request, function); });
            co_return answer;
        }
        co_return unsupported();
    }
    if (path[3] == "invoke") {
        if (method == "POST") {
            HttpResponseParts invoked = co_await invoke_function(context, request, function, caller.principal());
            co_return invoked;
        }
        co_return unsupported();
    }
    if (path[3] == "activity") {
        if (method != "GET") co_return unsupported();
        HttpResponseParts answer =
            co_await read_off_the_io_thread(context, [&] { return function_activity(context, request, function); });
        co_return answer;
    }
    if (path[3] == "logs") {
        if (method != "GET") co_return unsupported();
        std::variant<LogQuery, HttpResponseParts> query = read_log_query(request);
        if (auto* refusal = std::get_if<HttpResponseParts>(&query)) co_return std::move(*refusal);
        if (wants_follow(request)) {
            HttpResponseParts stream = co_await follow_logs(context, request, function, std::get<LogQuery>(query));
            co_return stream;
        }
        HttpResponseParts answer = co_await read_off_the_io_thread(
            context, [&] { return function_logs(context, function, std::get<LogQuery>(query)); });
        co_return answer;
    }
    co_return not_found(fmt::format("No such API: {} {}", method, request.path()));
}

}  // namespace sofaas
