// A function's queued events, dead letters and schedules on the control API (admin only):
//   GET    /v1/functions/NAME/queue                         waiting events, oldest's age
//   GET    /v1/functions/NAME/dead-letters[?after=ID&limit=N]
//   GET    /v1/functions/NAME/dead-letters/ID
//   POST   /v1/functions/NAME/dead-letters/redrive          all of them
//   POST   /v1/functions/NAME/dead-letters/ID/redrive
//   DELETE /v1/functions/NAME/dead-letters                  purge
// The store's calls block on the disk: they run on the disk-work thread.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/time.h"
#include "events/dispatcher.h"
#include "events/event_store.h"
#include "gateway/awaitable_calls.h"
#include "gateway/control_api.h"
#include "gateway/json_answer.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "registry/registry.h"

namespace sofaas {
namespace {

using nlohmann::ordered_json;

constexpr size_t default_page = 100;
constexpr size_t max_page = 1000;

std::string rfc3339_of(UnixMillis ms) {
    return format_rfc3339(WallTime(std::chrono::milliseconds(ms)));
}

ordered_json dead_letter_json(const DeadLetter& letter, bool with_payload) {
    ordered_json object = {
        {"id", letter.id},
        {"request_id", letter.event.request_id},
        {"version", letter.event.version == 0 ? ordered_json("$LATEST") : ordered_json(letter.event.version)},
        {"trigger", to_string(letter.event.trigger)},
        {"enqueued_at", rfc3339_of(letter.event.enqueued_ms)},
        {"failed_at", rfc3339_of(letter.failed_ms)},
        {"attempts", letter.runs},
        {"condition", to_string(letter.condition)},
        {"error_type", letter.error_type},
        {"error_message", letter.error_message},
        {"payload_bytes", letter.event.payload.size()},
    };
    if (with_payload) object["payload"] = letter.event.payload;
    return object;
}

std::optional<int64_t> parse_id(std::string_view text) {
    const auto number = parse_unsigned<uint64_t>(text);
    if (!number || *number == 0 || *number > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(*number);
}

HttpResponseParts queue_depth(HandlerContext& context, const std::string& function) {
    QueueDepth depth;
    for (const auto& [name, found] : context.services.events.depths()) {
        if (name == function) depth = found;
    }
    const UnixMillis now = unix_now_ms();
    const double oldest_age_s = depth.events == 0 ? 0.0 : (now - depth.oldest_enqueued_ms) / 1000.0;
    return json_of({{"function", function}, {"events", depth.events}, {"oldest_age_s", std::max(0.0, oldest_age_s)}});
}

HttpResponseParts list_dead_letters(HandlerContext& context, const IncomingRequest& request,
                                    const std::string& function) {
    const QueryParams params = parse_query(request.query());
    int64_t after = 0;
    size_t limit = default_page;
    if (const auto text = find_param(params, "after")) {
        const auto number = parse_unsigned<uint64_t>(*text);
        if (!number || *number > static_cast<uint64_t>(INT64_MAX)) return bad_request("after must be a dead letter id");
        after = static_cast<int64_t>(*number);
    }
    if (const auto text = find_param(params, "limit")) {
        const auto number = parse_unsigned(*text);
        if (!number || *number == 0 || *number > max_page) {
            return bad_request(fmt::format("limit must be between 1 and {}", max_page));
        }
        limit = *number;
    }
    ordered_json letters = ordered_json::array();
    for (const DeadLetter& letter : context.services.events.dead_letters(function, after, limit)) {
        letters.push_back(dead_letter_json(letter, false));
    }
    return json_of({{"function", function}, {"dead_letters", std::move(letters)}});
}

HttpResponseParts redrive(HandlerContext& context, const std::string& function, std::vector<int64_t> ids) {
    const uint64_t moved = context.services.events.redrive(function, ids, unix_now_ms());
    if (!ids.empty() && moved == 0) {
        return not_found(fmt::format("No dead letter {} of {}", ids.front(), function));
    }
    if (moved > 0) context.services.dispatcher.notify(function);
    return json_of({{"function", function}, {"redriven", moved}});
}

HttpResponseParts dead_letters_api(HandlerContext& context, const IncomingRequest& request,
                                   const std::vector<std::string>& path, const std::string& function) {
    const std::string& method = request.method;
    if (path.size() == 4) {
        if (method == "GET") return list_dead_letters(context, request, function);
        if (method == "DELETE") {
            const uint64_t purged = context.services.events.purge_dead_letters(function);
            spdlog::info("[{}] {}: {} dead letters purged", request.request_id, function, purged);
            return json_of({{"function", function}, {"purged", purged}});
        }
        return method_not_allowed(method, request.path());
    }
    if (path.size() == 5 && path[4] == "redrive") {
        return method == "POST" ? redrive(context, function, {}) : method_not_allowed(method, request.path());
    }
    const auto id = parse_id(path[4]);
    if (!id) return bad_request("A dead letter id is a positive integer, got '" + path[4] + "'");
    if (path.size() == 5) {
        if (method != "GET") return method_not_allowed(method, request.path());
        const auto letter = context.services.events.dead_letter(function, *id);
        if (!letter) return not_found(fmt::format("No dead letter {} of {}", *id, function));
        return json_of(dead_letter_json(*letter, true));
    }
    if (path.size() == 6 && path[5] == "redrive") {
        return method == "POST" ? redrive(context, function, {*id}) : method_not_allowed(method, request.path());
    }
    return not_found(fmt::format("No such API: {} {}", method, request.path()));
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> handle_events_api(HandlerContext& context, const IncomingRequest& request,
                                                            const std::vector<std::string>& path) {
    const std::string& function = path[2];
    HttpResponseParts response;
    co_await run_blocking(context.disk_work, [&] {
        if (!context.services.registry.latest(function)) {
            response = not_found(fmt::format("Function not found: {}", function));
            return;
        }
        try {
            if (path[3] == "queue") {
                response = path.size() == 4 && request.method == "GET"
                               ? queue_depth(context, function)
                               : method_not_allowed(request.method, request.path());
            } else if (path[3] == "dead-letters") {
                response = dead_letters_api(context, request, path, function);
            } else {
                response = schedules_api(context, request, path, function);
            }
        } catch (const EventStoreError& e) {
            spdlog::error("[{}] event store: {}", request.request_id, e.what());
            response = service_unavailable("The event store cannot be read or written now. Retry later.");
        }
    });
    co_return response;
}

}  // namespace sofaas
