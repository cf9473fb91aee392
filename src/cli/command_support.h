// What every command does with the control API: build a target, check the answer, read its
// JSON, print it raw.
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/http_client.h"

namespace sofaas::cli {

// /v1/functions/NAME for the command's first argument, URL-encoded.
std::string function_path(const CommandLine& line);

// Query string from (key, value) pairs, values URL-encoded; "" when there are none.
std::string query(const std::vector<std::pair<std::string, std::string>>& params);

// Every non-2xx answer becomes one line: the server's errorType and errorMessage, in a
// CommandError with the exit code of its kind (TokenRefused for a 401).
HttpResponse checked(HttpResponse response);

nlohmann::json parse_body(const HttpResponse& response);

// The server's JSON as it came (checked to be JSON), ending with a newline.
void print_json(const HttpResponse& response, std::ostream& out);
// --output json: prints the answer as print_json does and returns true; else false, and
// the command prints its text.
bool printed_as_json(const CommandLine& line, const HttpResponse& response, std::ostream& out);

// queue, dlq ..., schedule ... (event_commands.cpp); false when line.command is none of them.
bool run_event_command(const CommandLine& line, HttpClient& client, std::ostream& out);
// site deploy|rollback|list|delete (site_commands.cpp); false when line.command is none of them.
bool run_site_command(const CommandLine& line, HttpClient& client, std::ostream& out);

// roles create|list|show|delete|revoke-sessions (role_commands.cpp); false when
// line.command is none of them.
bool run_role_command(const CommandLine& line, HttpClient& client, std::ostream& out);
// users pool create|list|delete|rotate-key, users add|list|disable|enable|delete
// (user_commands.cpp); false when line.command is none of them.
bool run_user_command(const CommandLine& line, HttpClient& client, Console& console);

}  // namespace sofaas::cli
