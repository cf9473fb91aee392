// Schedules on the control API (admin only):
//   GET    /v1/schedules                                   every function's
//   GET    /v1/functions/NAME/schedules
//   POST   /v1/functions/NAME/schedules   {"expression", "timezone"?, "payload"?, "id"?}
//   GET    /v1/functions/NAME/schedules/ID
//   DELETE /v1/functions/NAME/schedules/ID
//   POST   /v1/functions/NAME/schedules/ID/pause | resume
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "events/event_store.h"
#include "events/schedule_expression.h"
#include "events/schedule_runner.h"
#include "events/time_zone.h"
#include "gateway/control_api.h"
#include "gateway/json_answer.h"
#include "gateway/responses.h"

namespace sofaas {
namespace {

using nlohmann::ordered_json;

constexpr size_t max_schedule_id_bytes = 64;

ordered_json time_or_null(UnixMillis ms) {
    if (ms == 0) return nullptr;
    return format_rfc3339(WallTime(std::chrono::milliseconds(ms)));
}

bool is_valid_schedule_id(std::string_view id) {
    if (id.empty() || id.size() > max_schedule_id_bytes) return false;
    for (const char c : id) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                             c == '_' || c == '.';
        if (!allowed) return false;
    }
    return true;
}

// "rate(5 minutes)" -> "rate-5-minutes": readable, and a valid id.
std::string id_from_expression(std::string_view expression) {
    std::string id;
    for (const char c : expression) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (keep) {
            id += c;
        } else if (!id.empty() && id.back() != '-') {
            id += '-';
        }
        if (id.size() == max_schedule_id_bytes) break;
    }
    while (!id.empty() && id.back() == '-') id.pop_back();
    return id.empty() ? "schedule" : id;
}

ordered_json schedule_json(const Schedule& schedule) {
    ordered_json next = nullptr;
    if (!schedule.paused) next = time_or_null(ScheduleRunner::next_due(schedule, unix_now_ms()).value_or(0));
    return {
        {"function", schedule.function},
        {"id", schedule.id},
        {"expression", schedule.expression},
        {"timezone", schedule.timezone},
        {"payload", schedule.payload ? ordered_json(*schedule.payload) : ordered_json(nullptr)},
        {"state", schedule.paused ? "paused" : "enabled"},
        {"created_at", time_or_null(schedule.created_ms)},
        {"last_fired_at", time_or_null(schedule.last_due_ms)},
        {"next_fire_at", std::move(next)},
        {"fired", schedule.fired},
        {"missed", schedule.missed},
    };
}

HttpResponseParts add_schedule(HandlerContext& context, const IncomingRequest& request, const std::string& function) {
    const auto body = ordered_json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return bad_request("The body must be a JSON object {\"expression\", \"timezone\", \"payload\", \"id\"}");
    for (const auto& [key, _] : body.items()) {
        if (key != "expression" && key != "timezone" && key != "payload" && key != "id") {
            return bad_request("Unknown field \"" + key + "\" (expression, timezone, payload, id)");
        }
    }
    const auto text_field = [&](const char* key) -> std::optional<std::string> {
        const auto found = body.find(key);
        if (found == body.end() || found->is_null()) return std::nullopt;
        if (!found->is_string()) throw std::invalid_argument(std::string(key) + " must be a string");
        return found->get<std::string>();
    };
    Schedule schedule;
    schedule.function = function;
    try {
        const auto expression = text_field("expression");
        if (!expression) return bad_request("expression is required: rate(...), cron(...) or five cron fields");
        schedule.expression = *expression;
        schedule.timezone = text_field("timezone").value_or("UTC");
        schedule.payload = text_field("payload");
        schedule.id = text_field("id").value_or(id_from_expression(schedule.expression));
    } catch (const std::invalid_argument& e) {
        return bad_request(e.what());
    }
    if (!is_valid_schedule_id(schedule.id)) {
        return bad_request(fmt::format("A schedule id is 1 to {} of A-Z a-z 0-9 - _ .", max_schedule_id_bytes));
    }
    if (schedule.payload && schedule.payload->size() > max_event_payload_bytes) {
        return bad_request(fmt::format("payload is at most {} bytes", max_event_payload_bytes));
    }
    schedule.created_ms = unix_now_ms();
    try {
        const auto expression = ScheduleExpression::parse(schedule.expression);
        const auto zone = TimeZone::load_or_throw(schedule.timezone);
        const auto anchor = std::chrono::floor<std::chrono::seconds>(
            std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(schedule.created_ms)));
        if (!expression.next_after(anchor, zone, anchor)) {
            return bad_request("\"" + schedule.expression + "\" never fires after now");
        }
    } catch (const ScheduleExpressionError& e) {
        return bad_request(e.what());
    } catch (const TimeZoneError& e) {
        return bad_request(e.what());
    }
    if (!context.services.events.add_schedule(schedule)) {
        return conflict(fmt::format("{} already has a schedule {}", function, schedule.id));
    }
    context.services.schedules.changed();
    return json_of(schedule_json(schedule), 201);
}

std::optional<Schedule> find_schedule(HandlerContext& context, const std::string& function, const std::string& id) {
    for (Schedule& schedule : context.services.events.schedules(function)) {
        if (schedule.id == id) return std::move(schedule);
    }
    return std::nullopt;
}

}  // namespace

HttpResponseParts list_all_schedules(HandlerContext& context) {
    ordered_json list = ordered_json::array();
    for (const Schedule& schedule : context.services.events.schedules(std::nullopt)) list.push_back(schedule_json(schedule));
    return json_of({{"schedules", std::move(list)}});
}

HttpResponseParts schedules_api(HandlerContext& context, const IncomingRequest& request,
                                const std::vector<std::string>& path, const std::string& function) {
    const std::string& method = request.method;
    if (path.size() == 4) {
        if (method == "POST") return add_schedule(context, request, function);
        if (method != "GET") return method_not_allowed(method, request.path());
        ordered_json list = ordered_json::array();
        for (const Schedule& schedule : context.services.events.schedules(function)) {
            list.push_back(schedule_json(schedule));
        }
        return json_of({{"schedules", std::move(list)}});
    }
    const std::string& id = path[4];
    const auto missing = [&] { return not_found(fmt::format("{} has no schedule {}", function, id)); };
    if (path.size() == 5) {
        if (method == "GET") {
            const auto schedule = find_schedule(context, function, id);
            return schedule ? json_of(schedule_json(*schedule)) : missing();
        }
        if (method != "DELETE") return method_not_allowed(method, request.path());
        if (!context.services.events.delete_schedule(function, id)) return missing();
        context.services.schedules.changed();
        return json_of({{"deleted", id}});
    }
    if (path.size() == 6 && (path[5] == "pause" || path[5] == "resume")) {
        if (method != "POST") return method_not_allowed(method, request.path());
        if (!context.services.events.set_paused(function, id, path[5] == "pause")) return missing();
        context.services.schedules.changed();
        const auto schedule = find_schedule(context, function, id);
        return schedule ? json_of(schedule_json(*schedule)) : missing();
    }
    return not_found(fmt::format("No such API: {} {}", method, request.path()));
}

}  // namespace sofaas
