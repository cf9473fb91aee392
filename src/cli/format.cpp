#include "cli/format.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

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

std::string fixed(const json& object, const char* key, int decimals) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number()) return "";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, it->get<double>());
    return buffer;
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
            fixed(row, "gb_seconds", 6),
            fixed(row, "cost_usd", 8)};
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
