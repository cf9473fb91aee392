#include "cli/format.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/http_client.h"
#include "common/csv.h"

namespace sofaas::cli {

using nlohmann::json;

namespace {

// Fields read defensively: an older or newer daemon may omit one, and a table with a
// blank cell beats a CLI that throws.
std::string text(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return "";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}


std::string routes_text(const json& spec) {
    auto it = spec.find("routes");
    if (it == spec.end() || !it->is_array() || it->empty()) return "-";
    std::string out;
    for (const auto& route : *it) {
        if (!out.empty()) out += ", ";
        out += text(route, "method") + " " + text(route, "path");
    }
    return out;
}

std::vector<std::string> billing_row(const json& row, std::string name) {
    return {std::move(name),
            text(row, "invocations"),
            text(row, "errors"),
            text(row, "timeouts"),
            text(row, "cold_starts"),
            text(row, "billed_ms"),
            text(row, "gb_seconds"),  // exact decimal strings, shown as the daemon wrote them
            text(row, "cost_usd")};
}

}  // namespace

std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths(header.size());
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    };
    measure(header);
    for (const auto& row : rows) measure(row);
    auto line = [&](const std::vector<std::string>& row) {
        std::string out;
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size()) out += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        return out + "\n";
    };
    std::string out = line(header);
    for (const auto& row : rows) out += line(row);
    return out;
}

// What anonymous HTTP callers learn of a failure: "exposed" (deploy --expose-errors) or
// "generic".
std::string errors_text(const json& spec) {
    auto it = spec.find("expose_errors");
    if (it == spec.end() || !it->is_boolean()) return "";
    return it->get<bool>() ? "exposed" : "generic";
}

std::string format_function_list(const json& list) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& spec : list.value("functions", json::array())) {
        rows.push_back({text(spec, "name"), text(spec, "version"), text(spec, "memory_mb") + " MB",
                        text(spec, "timeout_s") + " s", routes_text(spec), text(spec, "auth"), errors_text(spec)});
    }
    return format_table({"NAME", "VERSION", "MEMORY", "TIMEOUT", "ROUTES", "AUTH", "ERRORS"}, rows);
}

std::string format_function_info(const json& info) {
    const json spec = info.value("function", json::object());
    std::string versions;
    for (const auto& version : info.value("versions", json::array())) {
        versions += (versions.empty() ? "" : ", ") + version.dump();
    }
    std::string env;
    const json variables = spec.value("env", json::object());
    for (const auto& [key, value] : variables.items()) {
        env += (env.empty() ? "" : " ") + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
    }
    const json workers = info.value("workers", json::object());
    std::vector<std::pair<std::string, std::string>> fields = {
        {"name", text(spec, "name")},
        {"version", text(spec, "version")},
        {"versions", versions},
        {"handler", text(spec, "handler")},
        {"memory", text(spec, "memory_mb") + " MB"},
        {"timeout", text(spec, "timeout_s") + " s"},
        {"ephemeral storage", text(spec, "ephemeral_storage_mb") + " MB"},
        {"env", env.empty() ? "-" : env},
        {"routes", routes_text(spec)},
        {"min warm", text(spec, "min_warm")},
        {"max concurrency", text(spec, "max_concurrency")},
        {"auth", text(spec, "auth")},
        {"errors", errors_text(spec)},
        {"sha256", text(spec, "sha256")},
        {"size", text(spec, "size_bytes") + " bytes"},
        {"created", text(spec, "created_at")},
        {"workers", text(workers, "idle") + " idle, " + text(workers, "busy") + " busy"},
    };
    if (workers.contains("warm_failures")) {
        fields.emplace_back("min warm failing", text(workers, "warm_failures") + " in a row, retried with backoff; last: " +
                                                    text(workers, "warm_failure"));
    }
    return format_fields(fields);
}

std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [key, value] : fields) {
        std::string label = key + ":";
        label.resize(std::max<size_t>(label.size() + 1, 17), ' ');
        out += label + value + "\n";
    }
    return out;
}

namespace {
std::string functions_text(const json& key) {
    std::string functions;
    for (const auto& function : key.value("functions", json::array())) {
        functions += (functions.empty() ? "" : ", ") + (function.is_string() ? function.get<std::string>() : function.dump());
    }
    return functions.empty() ? (text(key, "scope") == "invoke" ? "every function" : "-") : functions;
}
}  // namespace

std::string format_created_key(const json& key) {
    return format_fields({{"name", text(key, "name")},
                          {"scope", text(key, "scope")},
                          {"functions", functions_text(key)},
                          {"access key id", text(key, "access_key_id")},
                          {"secret", text(key, "secret_access_key")}}) +
           "The secret is shown only now. Present the key as SOFAAS_TOKEN=" + text(key, "access_key_id") +
           ":SECRET\n(HTTP: Authorization: Bearer ACCESS_KEY_ID:SECRET).\n";
}

std::string format_key_list(const json& list) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& key : list.value("keys", json::array())) {
        rows.push_back({text(key, "name"), text(key, "access_key_id"), text(key, "scope"), functions_text(key),
                        text(key, "created")});
    }
    return format_table({"NAME", "ACCESS_KEY_ID", "SCOPE", "FUNCTIONS", "CREATED"}, rows);
}

namespace {

std::string joined(const json& object, const char* key) {
    std::string out;
    for (const auto& item : object.value(key, json::array())) {
        if (!out.empty()) out += ", ";
        out += item.is_string() ? item.get<std::string>() : item.dump();
    }
    return out;
}

}  // namespace

std::string format_role_list(const json& list) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& role : list.value("roles", json::array())) {
        rows.push_back({text(role, "name"), joined(role, "invoke"), text(role, "max_session_s") + " s",
                        joined(role, "trusted_pools")});
    }
    return format_table({"NAME", "INVOKE", "MAX_SESSION", "TRUSTED_POOLS"}, rows);
}

std::string format_role(const json& role) {
    std::string out = format_fields({{"name", text(role, "name")},
                                     {"arn", text(role, "arn")},
                                     {"invoke", joined(role, "invoke")},
                                     {"max session", text(role, "max_session_s") + " s"},
                                     {"trusted pools", joined(role, "trusted_pools")},
                                     {"created", text(role, "created")}});
    if (!role.contains("sessions")) return out;
    std::vector<std::vector<std::string>> rows;
    for (const auto& session : role["sessions"]) {
        rows.push_back({text(session, "access_key_id"), text(session, "user_sub"), text(session, "session_name"),
                        text(session, "expires")});
    }
    out += "live sessions: " + std::to_string(rows.size()) + "\n";
    if (!rows.empty()) out += format_table({"ACCESS_KEY_ID", "USER_SUB", "SESSION_NAME", "EXPIRES"}, rows);
    return out;
}

std::string format_deployed(const json& spec) {
    return text(spec, "name") + " version " + text(spec, "version") + "\n";
}

namespace {

std::string alias_weights(const json& alias) {
    std::string out;
    const json weights = alias.value("weights", json::object());
    for (const auto& [version, weight] : weights.items()) {
        if (!out.empty()) out += ", ";
        out += version + "=" + weight.dump();
    }
    return out;
}

}  // namespace

std::string format_alias(const json& alias) {
    std::string out = text(alias, "function") + ":" + text(alias, "name") + " -> version " + text(alias, "version");
    const std::string weights = alias_weights(alias);
    if (!weights.empty()) out += " (weights " + weights + ")";
    return out + "\n";
}

std::string format_alias_list(const json& list) {
    std::vector<std::vector<std::string>> rows;
    for (const json& alias : list.value("aliases", json::array())) {
        const std::string weights = alias_weights(alias);
        rows.push_back({text(alias, "name"), text(alias, "version"), weights.empty() ? "-" : weights,
                        text(alias, "description")});
    }
    return format_table({"ALIAS", "VERSION", "WEIGHTS", "DESCRIPTION"}, rows);
}

std::string format_log_line(const json& line) {
    std::string message = text(line, "message");
    if (text(line, "stream") == "platform") return text(line, "time") + " " + message + "\n";
    return text(line, "time") + " " + text(line, "request_id") + " " + text(line, "stream") + " " + message + "\n";
}

std::string format_billing_summary(const json& billing) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : billing.value("functions", json::array())) rows.push_back(billing_row(row, text(row, "function")));
    rows.push_back(billing_row(billing.value("total", json::object()), "TOTAL"));
    return format_table(
        {"FUNCTION", "INVOCATIONS", "ERRORS", "TIMEOUTS", "COLD_STARTS", "BILLED_MS", "GB_SECONDS", "COST_USD"}, rows);
}

std::string format_billing_records(const json& billing) {
    std::string out;
    for (const auto& record : billing.value("records", json::array())) out += record.dump() + "\n";
    return out;
}

namespace {

std::string csv_rows(const std::vector<const char*>& columns, const json& rows) {
    std::string out;
    for (size_t i = 0; i < columns.size(); ++i) {
        if (i) out += ',';
        append_csv_field(out, columns[i]);
    }
    out += '\n';
    for (const auto& row : rows) {
        for (size_t i = 0; i < columns.size(); ++i) {
            if (i) out += ',';
            append_csv_field(out, text(row, columns[i]));
        }
        out += '\n';
    }
    return out;
}

}  // namespace

std::string format_billing_summary_csv(const json& billing) {
    return csv_rows({"function", "invocations", "errors", "timeouts", "cold_starts", "billed_ms", "gb_seconds", "cost_usd"},
                    billing.value("functions", json::array()));
}

std::string format_billing_records_csv(const json& billing) {
    return csv_rows({"request_id", "function", "version", "trigger", "attempt", "start", "duration_ms", "init_ms",
                     "billed_ms", "memory_mb", "max_memory_used_mb", "status", "cost_usd"},
                    billing.value("records", json::array()));
}

namespace {

// A header's value as a JSON number, null when absent or not a number.
nlohmann::ordered_json header_number(const HttpResponse& response, const char* name) {
    const std::string value = response.header(name);
    double number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) return nullptr;
    if (value.find('.') == std::string::npos) return static_cast<int64_t>(number);
    return number;
}

nlohmann::ordered_json header_text(const HttpResponse& response, const char* name) {
    const std::string value = response.header(name);
    if (value.empty()) return nullptr;
    return value;
}

}  // namespace

std::string format_invocation_facts(const HttpResponse& response) {
    std::string status = response.header("X-Sofaas-Status");
    if (status.empty() && response.status == 202) {  // queued (--async): "queued" or "duplicate"
        status = text(json::parse(response.body, nullptr, false), "status");
    }
    std::vector<std::pair<std::string, std::string>> fields = {
        {"request id", response.header("X-Sofaas-Request-Id")},
        {"status", status.empty() ? "HTTP " + std::to_string(response.status) : status},
    };
    struct Fact {
        const char* label;
        const char* header;
        const char* unit;
    };
    static constexpr Fact facts[] = {{"version", "X-Sofaas-Version", ""},
                                     {"duration", "X-Sofaas-Duration-Ms", " ms"},
                                     {"billed", "X-Sofaas-Billed-Ms", " ms"},
                                     {"init", "X-Sofaas-Init-Ms", " ms"}};
    for (const Fact& fact : facts) {
        const std::string value = response.header(fact.header);
        if (!value.empty()) fields.emplace_back(fact.label, value + fact.unit);
    }
    return format_fields(fields);
}

nlohmann::ordered_json invocation_json(const HttpResponse& response) {
    nlohmann::ordered_json record = {{"request_id", header_text(response, "X-Sofaas-Request-Id")},
                                     {"status", header_text(response, "X-Sofaas-Status")},
                                     {"version", header_number(response, "X-Sofaas-Version")},
                                     {"duration_ms", header_number(response, "X-Sofaas-Duration-Ms")},
                                     {"billed_ms", header_number(response, "X-Sofaas-Billed-Ms")},
                                     {"init_ms", header_number(response, "X-Sofaas-Init-Ms")},
                                     {"output", nullptr},
                                     {"error_type", nullptr},
                                     {"error_message", nullptr}};
    if (response.status >= 200 && response.status <= 299) {
        record["output"] = response.body;
        return record;
    }
    const json error = json::parse(response.body, nullptr, false);
    if (error.is_object()) {
        if (auto type = error.find("errorType"); type != error.end() && type->is_string()) {
            record["error_type"] = type->get<std::string>();
        }
        if (auto message = error.find("errorMessage"); message != error.end() && message->is_string()) {
            record["error_message"] = message->get<std::string>();
        }
    }
    return record;
}

std::string format_server_error(int status, const std::string& body) {
    json error = json::parse(body, nullptr, false);
    if (error.is_object() && error.contains("errorType")) {
        std::string type = text(error, "errorType");
        std::string message = text(error, "errorMessage");
        return message.empty() ? type : type + ": " + message;
    }
    std::string shown = body.substr(0, 200);
    while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r')) shown.pop_back();
    return "HTTP " + std::to_string(status) + (shown.empty() ? "" : ": " + shown);
}

}  // namespace sofaas::cli
