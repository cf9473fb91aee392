// Everything the CLI prints, formatted in one place from the control API's JSON.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sofaas {
struct HttpResponse;
}

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
// GET /v1/roles: NAME INVOKE MAX_SESSION TRUSTED_POOLS.
std::string format_role_list(const nlohmann::json& list);
// POST /v1/roles, GET /v1/roles/NAME: the role as "key: value" lines, then its live
// sessions (GET) as a table.
std::string format_role(const nlohmann::json& role);
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
// --output csv (RFC 4180 quoting, lines ending in LF): a header row, then one row per
// function (the summary: no TOTAL row, the rows add up to it) or per record.
std::string format_billing_summary_csv(const nlohmann::json& billing);
std::string format_billing_records_csv(const nlohmann::json& billing);

// invoke --verbose, from the answer's headers: request id, status, version, duration,
// billed ms and init ms (a cold start), as "key: value" lines.
std::string format_invocation_facts(const HttpResponse& response);
// invoke --output json: {"request_id", "status", "version", "duration_ms", "billed_ms",
// "init_ms", "output", "error_type", "error_message"}, every key always there (null when
// it does not apply), in that order.
nlohmann::ordered_json invocation_json(const HttpResponse& response);

// An error answer of the control API: "errorType: errorMessage", or the status and body
// when the body is not the usual JSON.
std::string format_server_error(int status, const std::string& body);

}  // namespace sofaas::cli
