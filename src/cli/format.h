// Everything the CLI prints, formatted in one place from the control API's JSON.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sofaas::cli {

// Left-aligned columns separated by two spaces; every line ends with '\n'.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

// GET /v1/functions: NAME VERSION MEMORY TIMEOUT ROUTES AUTH.
std::string format_function_list(const nlohmann::json& list);
// GET /v1/functions/NAME: settings, versions and workers as "key: value" lines.
std::string format_function_info(const nlohmann::json& info);
// "key: value" lines, the values aligned.
std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields);
// POST /v1/keys: the new key with its secret, and how to use it.
std::string format_created_key(const nlohmann::json& key);
// GET /v1/keys: NAME ACCESS_KEY_ID SCOPE FUNCTIONS CREATED.
std::string format_key_list(const nlohmann::json& list);
// PUT /v1/functions/NAME: "NAME version N".
std::string format_deployed(const nlohmann::json& spec);
// PUT /v1/functions/NAME/aliases/ALIAS: "NAME:ALIAS -> version N" (and its weighted version).
std::string format_alias(const nlohmann::json& alias);
// GET /v1/functions/NAME/aliases: ALIAS VERSION WEIGHTS DESCRIPTION.
std::string format_alias_list(const nlohmann::json& list);
// One line of GET /v1/functions/NAME/logs: "TIME REQUEST_ID STREAM MESSAGE" for the
// function's output; platform lines (START/END/REPORT) as Lambda prints them: "TIME MESSAGE".
std::string format_log_line(const nlohmann::json& line);
// GET /v1/billing: FUNCTION INVOCATIONS ERRORS TIMEOUTS COLD_STARTS BILLED_MS GB_SECONDS
// COST_USD, one row per function and a TOTAL row.
std::string format_billing_summary(const nlohmann::json& billing);
// GET /v1/billing?records=true: one compact JSON object per line.
std::string format_billing_records(const nlohmann::json& billing);

// An error answer of the control API: "errorType: errorMessage", or the status and body
// when the body is not the usual JSON.
std::string format_server_error(int status, const std::string& body);

}  // namespace sofaas::cli
