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

// Every non-2xx answer becomes one line: the server's errorType and errorMessage
// (a CommandError).
HttpResponse checked(HttpResponse response);

nlohmann::json parse_body(const HttpResponse& response);

// The server's JSON as it came, ending with a newline (--json).
void print_json(const HttpResponse& response, std::ostream& out);

// queue, dlq ..., schedule ... (event_commands.cpp); false when line.command is none of them.
bool run_event_command(const CommandLine& line, HttpClient& client, std::ostream& out);

}  // namespace sofaas::cli
