// The commands of queued events: queue, dlq list|show|redrive|purge, schedule
// add|list|pause|resume|delete.
#include <ostream>
#include <string>
#include <vector>

#include "cli/command_support.h"
#include "cli/format.h"

namespace sofaas::cli {
namespace {

using nlohmann::json;

std::string text_of(const json& value) {
    if (value.is_null()) return "-";
    if (value.is_string()) return value.get<std::string>();
    return value.dump();
}

std::string id_path(const CommandLine& line, const char* collection) {
    return function_path(line) + "/" + collection + "/" + url_encode(line.arguments.at(1));
}

void show_queue(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", function_path(line) + "/queue"));
    if (printed_as_json(line, response, out)) return;
    const json body = parse_body(response);
    out << format_fields({{"events waiting", text_of(body.value("events", json()))},
                          {"oldest age (s)", text_of(body.value("oldest_age_s", json()))}});
}

void list_dead_letters(const CommandLine& line, HttpClient& client, std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> params;
    if (auto after = line.value("after")) params.emplace_back("after", *after);
    if (auto limit = line.value("limit")) params.emplace_back("limit", *limit);
    auto response = checked(client.request("GET", function_path(line) + "/dead-letters" + query(params)));
    if (printed_as_json(line, response, out)) return;
    std::vector<std::vector<std::string>> rows;
    for (const json& letter : parse_body(response).value("dead_letters", json::array())) {
        rows.push_back({text_of(letter["id"]), text_of(letter["request_id"]), text_of(letter["failed_at"]),
                        text_of(letter["attempts"]), text_of(letter["condition"]),
                        text_of(letter["error_type"]) + ": " + text_of(letter["error_message"])});
    }
    out << format_table({"ID", "REQUEST_ID", "FAILED_AT", "ATTEMPTS", "CONDITION", "ERROR"}, rows);
}

void redrive_dead_letters(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const bool all = line.has("all");
    if (all == (line.arguments.size() > 1)) throw UsageError("'dlq redrive' needs a dead letter ID or --all, not both");
    const std::string target = all ? function_path(line) + "/dead-letters/redrive" : id_path(line, "dead-letters") + "/redrive";
    auto response = checked(client.request("POST", target));
    if (printed_as_json(line, response, out)) return;
    const json body = parse_body(response);
    out << "redriven " << text_of(body.value("redriven", json())) << "\n";
}

std::string schedule_expression(const CommandLine& line) {
    const auto every = line.value("every");
    const auto cron = line.value("cron");
    if (every.has_value() == cron.has_value()) throw UsageError("'schedule add' needs --every or --cron (one of them)");
    if (every) return every->rfind("rate(", 0) == 0 ? *every : "rate(" + *every + ")";
    return *cron;
}

void add_schedule(const CommandLine& line, HttpClient& client, std::ostream& out) {
    json request = {{"expression", schedule_expression(line)}};
    if (auto timezone = line.value("timezone")) request["timezone"] = *timezone;
    if (auto payload = line.value("payload")) request["payload"] = *payload;
    if (auto id = line.value("id")) request["id"] = *id;
    auto response = checked(client.request("POST", function_path(line) + "/schedules", request.dump(),
                                           {{"Content-Type", "application/json"}}));
    if (printed_as_json(line, response, out)) return;
    const json schedule = parse_body(response);
    out << "schedule " << text_of(schedule["id"]) << " of " << text_of(schedule["function"]) << ": next at "
        << text_of(schedule.value("next_fire_at", json())) << "\n";
}

void list_schedules(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const std::string target = line.arguments.empty() ? "/v1/schedules" : function_path(line) + "/schedules";
    auto response = checked(client.request("GET", target));
    if (printed_as_json(line, response, out)) return;
    std::vector<std::vector<std::string>> rows;
    for (const json& schedule : parse_body(response).value("schedules", json::array())) {
        rows.push_back({text_of(schedule["function"]), text_of(schedule["id"]), text_of(schedule["expression"]),
                        text_of(schedule["timezone"]), text_of(schedule["state"]),
                        text_of(schedule.value("next_fire_at", json())), text_of(schedule["fired"]),
                        text_of(schedule["missed"])});
    }
    out << format_table({"FUNCTION", "ID", "EXPRESSION", "TIMEZONE", "STATE", "NEXT", "FIRED", "MISSED"}, rows);
}

}  // namespace

bool run_event_command(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const std::string& command = line.command;
    if (command == "queue") {
        show_queue(line, client, out);
    } else if (command == "dlq list") {
        list_dead_letters(line, client, out);
    } else if (command == "dlq show") {
        print_json(checked(client.request("GET", id_path(line, "dead-letters"))), out);
    } else if (command == "dlq redrive") {
        redrive_dead_letters(line, client, out);
    } else if (command == "dlq purge") {
        auto response = checked(client.request("DELETE", function_path(line) + "/dead-letters"));
        if (printed_as_json(line, response, out)) return true;
        const json body = parse_body(response);
        out << "purged " << text_of(body.value("purged", json())) << "\n";
    } else if (command == "schedule add") {
        add_schedule(line, client, out);
    } else if (command == "schedule list") {
        list_schedules(line, client, out);
    } else if (command == "schedule pause" || command == "schedule resume") {
        const std::string action = command.substr(command.find(' ') + 1);
        auto response = checked(client.request("POST", id_path(line, "schedules") + "/" + action));
        if (printed_as_json(line, response, out)) return true;
        out << (action == "pause" ? "paused " : "resumed ") << line.arguments.at(1) << "\n";
    } else if (command == "schedule delete") {
        auto response = checked(client.request("DELETE", id_path(line, "schedules")));
        if (printed_as_json(line, response, out)) return true;
        out << "deleted schedule " << line.arguments.at(1) << "\n";
    } else {
        return false;
    }
    return true;
}

}  // namespace sofaas::cli
