#include "cli/commands.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command_support.h"
#include "cli/format.h"
#include "cli/http_client.h"
#include "logs/function_logs.h"

namespace sofaas::cli {

using nlohmann::json;

namespace {

constexpr unsigned max_u32 = std::numeric_limits<uint32_t>::max();

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw CommandError("cannot read " + path + ": " + std::strerror(errno));
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (file.bad()) throw CommandError("cannot read " + path + ": " + std::strerror(errno));
    return bytes;
}


void deploy(const CommandLine& line, HttpClient& client, std::ostream& out) {
    std::string library = read_file(line.arguments.at(1));
    auto response = checked(client.request("PUT", deploy_target(line), library,
                                           {{"Content-Type", "application/octet-stream"}}));
    if (printed_as_json(line, response, out)) return;
    out << format_deployed(parse_body(response));
}

void configure(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const auto params = settings_params(line, true);
    if (params.empty()) throw UsageError("'config' needs at least one setting to change (see sofaas config --help)");
    auto response = checked(client.request("PATCH", function_path(line) + query(params)));
    if (printed_as_json(line, response, out)) return;
    out << format_deployed(parse_body(response));
}

void invoke(const CommandLine& line, HttpClient& client, Console& console) {
    std::istream& in = console.in;
    std::ostream& out = console.out;
    if (line.has("data") && line.has("data-file")) throw UsageError("use either --data or --data-file, not both");
    std::string event = line.value("data").value_or("");
    if (auto file = line.value("data-file")) {
        if (*file == "-") {
            event.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        } else {
            event = read_file(*file);
        }
    }
    std::vector<std::pair<std::string, std::string>> params;
    if (auto version = line.value("version")) {
        params.emplace_back("version", std::to_string(parse_number("version", *version, 1, max_u32)));
    }
    if (auto qualifier = line.value("qualifier")) {
        if (line.has("version")) throw UsageError("use either --version or --qualifier, not both");
        params.emplace_back("qualifier", *qualifier);
    }
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/octet-stream"}};
    const bool queued = line.has("async");
    if (queued) headers.emplace_back("X-Sofaas-Invocation-Type", "Event");
    if (auto key = line.value("idempotency-key")) {
        if (!queued) throw UsageError("option '--idempotency-key' goes with --async");
        headers.emplace_back("X-Sofaas-Idempotency-Key", *key);
    }
    const HttpResponse response = client.request("POST", function_path(line) + "/invoke" + query(params), event, headers);
    if (line.has("verbose")) console.err << format_invocation_facts(response);
    if (line.output == OutputFormat::json && !queued && !response.header("X-Sofaas-Status").empty()) {
        // The function ran (or was throttled): its record, failed or not, then the exit code.
        out << invocation_json(response).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
    checked(response);
    if (queued) {
        if (printed_as_json(line, response, out)) return;
        const json body = parse_body(response);
        out << body.value("request_id", "") << (body.value("status", "") == "duplicate" ? " (already queued)" : "")
            << "\n";
        return;
    }
    if (line.output == OutputFormat::json) return;
    // The output's bytes exactly as returned, for a pipe or a file; a terminal also gets a
    // newline after an output without one, so that the prompt starts on a line of its own.
    out.write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
    if (console.out_is_terminal && !response.body.empty() && response.body.back() != '\n') out << "\n";
}

void list(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", "/v1/functions"));
    if (printed_as_json(line, response, out)) return;
    out << format_function_list(parse_body(response));
}

void info(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", function_path(line)));
    if (printed_as_json(line, response, out)) return;
    out << format_function_info(parse_body(response));
}

void remove(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("DELETE", function_path(line)));
    if (printed_as_json(line, response, out)) return;
    out << "deleted " << line.arguments.at(0) << "\n";
}

// One line of a function's log as the user asked for it: as stored (--json), or as text.
void print_log_line(const json& entry, bool as_json, std::ostream& out) {
    if (as_json) out << entry.dump() << "\n";
    else out << format_log_line(entry);
}

void logs(const CommandLine& line, HttpClient& client, std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> params;
    if (auto tail = line.value("tail")) {
        const unsigned count = parse_number("tail", *tail, 1, max_u32);
        if (count > max_log_tail_lines) {
            throw UsageError("option '--tail' is at most " + std::to_string(max_log_tail_lines) +
                             " lines (the daemon's cap), not " + *tail + ": narrow with --since or --request-id");
        }
        params.emplace_back("tail", std::to_string(count));
    }
    if (auto since = line.value("since")) params.emplace_back("since", *since);
    if (auto request_id = line.value("request-id")) params.emplace_back("request_id", *request_id);
    // JSON (--json, --output json): one object per log line, the shape a followed log keeps.
    const bool as_json = line.output == OutputFormat::json;
    const std::string target = function_path(line) + "/logs";
    if (!line.has("follow")) {
        json body = parse_body(checked(client.request("GET", target + query(params))));
        for (const auto& entry : body.value("lines", json::array())) print_log_line(entry, as_json, out);
        return;
    }
    params.emplace_back("follow", "1");
    // Lines arrive in pieces of any size: each complete one is printed at once; blank
    // lines are the daemon's sign of life while the log is quiet.
    std::string partial;
    auto print_complete_lines = [&](std::string_view piece) {
        partial.append(piece);
        size_t start = 0;
        for (size_t end; (end = partial.find('\n', start)) != std::string::npos; start = end + 1) {
            const std::string_view text = std::string_view(partial).substr(start, end - start);
            if (text.empty()) continue;
            const json entry = json::parse(text, nullptr, false);
            if (entry.is_object()) print_log_line(entry, as_json, out);
        }
        partial.erase(0, start);
        out.flush();
    };
    checked(client.stream("GET", target + query(params), print_complete_lines));
}

// Written to `out` as it arrives: an export can be larger than memory.
void billing_export(const CommandLine& line, HttpClient& client, std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> params;
    for (const char* key : {"function", "since", "until"}) {
        if (auto value = line.value(key)) params.emplace_back(key, *value);
    }
    params.emplace_back("format", line.output == OutputFormat::jsonl ? "jsonl" : "csv");
    checked(client.stream("GET", "/v1/billing/export" + query(params), [&](std::string_view piece) {
        out << piece;
        out.flush();
    }));
}

void billing(const CommandLine& line, HttpClient& client, std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> params;
    for (const char* key : {"function", "since", "until"}) {
        if (auto value = line.value(key)) params.emplace_back(key, *value);
    }
    if (line.has("records")) params.emplace_back("records", "true");
    auto response = checked(client.request("GET", "/v1/billing" + query(params)));
    if (printed_as_json(line, response, out)) return;
    json body = parse_body(response);
    if (line.output == OutputFormat::csv) {
        out << (line.has("records") ? format_billing_records_csv(body) : format_billing_summary_csv(body));
    } else {
        out << (line.has("records") ? format_billing_records(body) : format_billing_summary(body));
    }
}


std::string alias_path(const CommandLine& line) {
    return function_path(line) + "/aliases/" + url_encode(line.arguments.at(1));
}

void set_alias(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const std::string& version = line.arguments.at(2);
    const auto digits = [](const std::string& text) {
        return !text.empty() && text.size() <= 10 && text.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!digits(version)) throw UsageError("'alias set' needs a version number, not '" + version + "'");
    json request = {{"version", std::stoull(version)}};
    if (auto weight = line.value("weight")) {
        const auto equals = weight->find('=');
        const std::string other = weight->substr(0, std::min(equals, weight->size()));
        const std::string share = equals == std::string::npos ? "" : weight->substr(equals + 1);
        char* end = nullptr;
        const double value = std::strtod(share.c_str(), &end);
        if (!digits(other) || share.empty() || *end != '\0') {
            throw UsageError("option '--weight' needs VERSION=WEIGHT, e.g. 2=0.1, not '" + *weight + "'");
        }
        request["weights"] = {{other, value}};
    }
    if (auto description = line.value("description")) request["description"] = *description;
    auto response = checked(client.request("PUT", alias_path(line), request.dump(), {{"Content-Type", "application/json"}}));
    if (printed_as_json(line, response, out)) return;
    out << format_alias(parse_body(response));
}

void list_aliases(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", function_path(line) + "/aliases"));
    if (printed_as_json(line, response, out)) return;
    out << format_alias_list(parse_body(response));
}

void delete_alias(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("DELETE", alias_path(line)));
    if (printed_as_json(line, response, out)) return;
    out << "deleted alias " << line.arguments.at(1) << "\n";
}

void create_key(const CommandLine& line, HttpClient& client, std::ostream& out) {
    json request = {{"name", line.arguments.at(0)}, {"scope", line.value("scope").value_or("invoke")},
                    {"functions", line.values("function")}};
    if (request["scope"] != "admin" && request["scope"] != "invoke" && request["scope"] != "metrics")
        throw UsageError("option '--scope' needs admin, invoke or metrics, not '" + request["scope"].get<std::string>() + "'");
    auto response = checked(client.request("POST", "/v1/keys", request.dump(), {{"Content-Type", "application/json"}}));
    if (printed_as_json(line, response, out)) return;
    out << format_created_key(parse_body(response));
}

void list_keys(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", "/v1/keys"));
    if (printed_as_json(line, response, out)) return;
    out << format_key_list(parse_body(response));
}

void delete_key(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("DELETE", "/v1/keys/" + url_encode(line.arguments.at(0))));
    if (printed_as_json(line, response, out)) return;
    out << "deleted key " << line.arguments.at(0) << "\n";
}

std::string trimmed(std::string text) {
    auto not_space = text.find_last_not_of(" \t\r\n");
    text.erase(not_space == std::string::npos ? 0 : not_space + 1);
    return text.substr(std::min(text.size(), text.find_first_not_of(" \t\r\n")));
}

}  // namespace

ClientSettings resolve_client_settings(const CommandLine& line, const char* endpoint_env, const char* token_env,
                                       const std::filesystem::path& token_file) {
    ClientSettings settings;
    if (line.endpoint) settings.endpoint = *line.endpoint;
    else if (endpoint_env && *endpoint_env) settings.endpoint = endpoint_env;
    else settings.endpoint = default_endpoint;

    if (line.token) {
        settings.token = *line.token;
        settings.token_source = "--token";
    } else if (token_env && *token_env) {
        settings.token = token_env;
        settings.token_source = "SOFAAS_TOKEN";
    } else {
        settings.token_source = token_file.string();
        const auto no_token = [&](const std::string& why) {
            return CommandError("no token: set SOFAAS_TOKEN or --token; " + why, ExitCode::unauthorized);
        };
        errno = 0;
        std::ifstream file(token_file);
        if (!file) {
            if (errno == ENOENT || errno == 0) throw no_token("looked in " + token_file.string());
            throw no_token("cannot read " + token_file.string() + ": " + std::strerror(errno));
        }
        std::stringstream contents;
        contents << file.rdbuf();
        settings.token = trimmed(contents.str());
        if (settings.token.empty()) throw no_token(token_file.string() + " is empty");
    }
    if (settings.token.empty()) throw CommandError("no token: " + settings.token_source + " is empty", ExitCode::unauthorized);
    return settings;
}

std::string deploy_target(const CommandLine& line) { return function_path(line) + query(settings_params(line, false)); }

std::vector<std::pair<std::string, std::string>> settings_params(const CommandLine& line, bool update) {
    std::vector<std::pair<std::string, std::string>> params;
    if (auto handler = line.value("handler")) params.emplace_back("handler", *handler);
    static const std::pair<const char*, const char*> numeric[] = {
        {"memory", "memory"},         {"timeout", "timeout"},
        {"ephemeral-storage", "ephemeral_storage"}, {"min-warm", "min_warm"},
        {"max-concurrency", "max_concurrency"}, {"async-retries", "async_retries"},
        {"max-event-age", "max_event_age"}};
    // Only the syntax is checked here; the ranges are the daemon's (they come from its config).
    for (const auto& [flag, key] : numeric) {
        if (auto value = line.value(flag)) {
            params.emplace_back(key, std::to_string(parse_number(flag, *value, 0, max_u32)));
        }
    }
    for (const auto& env : line.values("env")) {
        // An update's empty --env clears the variables.
        const bool clears = update && env.empty();
        if (!clears && (env.find('=') == std::string::npos || env.front() == '=')) {
            throw UsageError("option '--env' needs KEY=VALUE, not '" + env + "'");
        }
        params.emplace_back("env", env);
    }
    for (const auto& route : line.values("route")) params.emplace_back("route", route);
    if (auto auth = line.value("auth")) {
        if (*auth != "none" && *auth != "key" && *auth != "jwt") {
            throw UsageError("option '--auth' needs none, key or jwt, not '" + *auth + "'");
        }
        params.emplace_back("auth", *auth);
    }
    if (auto pool = line.value("jwt-pool")) params.emplace_back("jwt_pool", *pool);
    if (auto scope = line.value("jwt-scope")) params.emplace_back("jwt_scope", *scope);
    if (line.has("expose-errors")) params.emplace_back("expose_errors", "true");
    for (const char* flag : {"on-success", "on-failure"}) {
        std::string key = flag;
        key[2] = '_';
        if (auto destination = line.value(flag)) params.emplace_back(key, *destination);
    }
    return params;
}

void run_command(const CommandLine& line, HttpClient& client, Console& console) {
    const std::string& command = line.command;
    std::ostream& out = console.out;
    if (command == "deploy") deploy(line, client, out);
    else if (command == "config") configure(line, client, out);
    else if (command == "invoke") invoke(line, client, console);
    else if (command == "list") list(line, client, out);
    else if (command == "info") info(line, client, out);
    else if (command == "delete") remove(line, client, out);
    else if (command == "logs") logs(line, client, out);
    else if (command == "billing") billing(line, client, out);
    else if (command == "billing export") billing_export(line, client, out);
    else if (command == "alias set") set_alias(line, client, out);
    else if (command == "alias list") list_aliases(line, client, out);
    else if (command == "alias delete") delete_alias(line, client, out);
    else if (command == "keys create") create_key(line, client, out);
    else if (command == "keys list") list_keys(line, client, out);
    else if (command == "keys delete") delete_key(line, client, out);
    else if (run_event_command(line, client, out)) return;
    else if (run_site_command(line, client, out)) return;
    else if (run_role_command(line, client, out)) return;
    else if (run_user_command(line, client, console)) return;
    else throw UsageError("unknown command '" + command + "'");
}

}  // namespace sofaas::cli
