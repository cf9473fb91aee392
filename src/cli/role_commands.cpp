// The commands of roles: roles create|list|show|delete|revoke-sessions. A role is what a
// signed-in user's temporary credentials may do (docs/CREDENTIALS.md).
#include <charconv>
#include <ostream>
#include <string>

#include "cli/command_support.h"
#include "cli/format.h"

namespace sofaas::cli {
namespace {

using nlohmann::json;

std::string role_path(const CommandLine& line) { return "/v1/roles/" + url_encode(line.arguments.at(0)); }

void create_role(const CommandLine& line, HttpClient& client, std::ostream& out) {
    json request = {{"name", line.arguments.at(0)},
                    {"invoke", line.values("invoke")},
                    {"trusted_pools", line.values("trust-pool")}};
    if (const auto seconds = line.value("max-session")) {
        uint64_t value = 0;
        const auto [end, error] = std::from_chars(seconds->data(), seconds->data() + seconds->size(), value);
        if (error != std::errc() || end != seconds->data() + seconds->size()) {
            throw UsageError("option '--max-session' needs a number of seconds, not '" + *seconds + "'");
        }
        request["max_session_s"] = value;
    }
    auto response = checked(client.request("POST", "/v1/roles", request.dump(), {{"Content-Type", "application/json"}}));
    if (printed_as_json(line, response, out)) return;
    out << format_role(parse_body(response));
}

void list_roles(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", "/v1/roles"));
    if (printed_as_json(line, response, out)) return;
    out << format_role_list(parse_body(response));
}

void show_role(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", role_path(line)));
    if (printed_as_json(line, response, out)) return;
    out << format_role(parse_body(response));
}

void delete_role(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("DELETE", role_path(line)));
    if (printed_as_json(line, response, out)) return;
    out << "deleted role " << line.arguments.at(0) << ", " << parse_body(response).value("sessions_revoked", 0)
        << " sessions revoked\n";
}

void revoke_sessions(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("POST", role_path(line) + "/revoke-sessions"));
    if (printed_as_json(line, response, out)) return;
    out << "role " << line.arguments.at(0) << ": " << parse_body(response).value("sessions_revoked", 0)
        << " sessions revoked\n";
}

}  // namespace

bool run_role_command(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const std::string& command = line.command;
    if (command == "roles create") create_role(line, client, out);
    else if (command == "roles list") list_roles(line, client, out);
    else if (command == "roles show") show_role(line, client, out);
    else if (command == "roles delete") delete_role(line, client, out);
    else if (command == "roles revoke-sessions") revoke_sessions(line, client, out);
    else return false;
    return true;
}

}  // namespace sofaas::cli
