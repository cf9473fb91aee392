// The commands of user pools (docs/USERS.md): users pool create|list|delete|rotate-key and
// users add|list|disable|enable|delete.
#include <fstream>
#include <istream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command_support.h"
#include "cli/format.h"

namespace sofaas::cli {
namespace {

using nlohmann::json;

const std::vector<std::pair<std::string, std::string>> json_body{{"Content-Type", "application/json"}};

std::string pool_path(const std::string& pool) { return "/v1/user-pools/" + url_encode(pool); }

std::string pool_of(const CommandLine& line) {
    const auto pool = line.value("pool");
    if (!pool || pool->empty()) throw UsageError("'" + line.command + "' needs --pool POOL");
    return *pool;
}

std::string user_path(const CommandLine& line) {
    return pool_path(pool_of(line)) + "/users/" + url_encode(line.arguments.at(0));
}

std::string joined(const json& words) {
    std::string text;
    for (const json& word : words) text += (text.empty() ? "" : " ") + word.get<std::string>();
    return text.empty() ? "-" : text;
}

std::string format_pool(const json& pool) {
    return format_fields({{"pool", pool.value("name", "")},
                          {"client id", pool.value("client_id", "")},
                          {"self sign-up", pool.value("self_sign_up", false) ? "yes" : "no"},
                          {"passwords", "at least " + std::to_string(pool.value("min_password_length", 0)) + " characters"},
                          {"signing keys", joined(pool.value("key_ids", json::array()))},
                          {"created", pool.value("created", "")}});
}

// What the password is: read from --password-file (- for stdin), its last newline dropped,
// or generated (and then printed, once). Never a flag's value, which `ps` would show.
std::pair<std::string, bool> password_of(const CommandLine& line, std::istream& in) {
    if (const auto file = line.value("password-file")) {
        std::stringstream text;
        if (*file == "-") {
            text << in.rdbuf();
        } else {
            std::ifstream stream(*file);
            if (!stream) throw CommandError("cannot read " + *file);
            text << stream.rdbuf();
        }
        std::string password = text.str();
        if (password.ends_with('\n')) password.pop_back();
        if (password.ends_with('\r')) password.pop_back();
        return {password, false};
    }
    constexpr std::string_view alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::random_device random;  // the kernel's generator
    std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
    std::string password;
    for (int i = 0; i < 20; ++i) password += alphabet[pick(random)];
    return {password, true};
}

void create_pool(const CommandLine& line, HttpClient& client, std::ostream& out) {
    json request = {{"name", line.arguments.at(0)}, {"self_sign_up", !line.has("no-self-sign-up")}};
    if (const auto length = line.value("min-password-length")) {
        request["min_password_length"] = parse_number("min-password-length", *length, 8, 256);
    }
    auto response = checked(client.request("POST", "/v1/user-pools", request.dump(), json_body));
    if (printed_as_json(line, response, out)) return;
    out << format_pool(parse_body(response));
}

void list_pools(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", "/v1/user-pools"));
    if (printed_as_json(line, response, out)) return;
    std::vector<std::vector<std::string>> rows;
    for (const json& pool : parse_body(response).value("pools", json::array())) {
        rows.push_back({pool.value("name", ""), pool.value("client_id", ""), pool.value("self_sign_up", false) ? "yes" : "no",
                        std::to_string(pool.value("min_password_length", 0)), pool.value("created", "")});
    }
    out << format_table({"POOL", "CLIENT_ID", "SELF_SIGN_UP", "MIN_PASSWORD", "CREATED"}, rows);
}

void add_user(const CommandLine& line, HttpClient& client, Console& console) {
    const auto [password, generated] = password_of(line, console.in);
    const json request = {{"username", line.arguments.at(0)}, {"password", password}, {"scopes", line.values("scope")}};
    auto response = checked(
        client.request("POST", pool_path(pool_of(line)) + "/users", request.dump(), json_body));
    if (printed_as_json(line, response, console.out)) {
        if (generated) console.err << "password: " << password << "\n";
        return;
    }
    const json user = parse_body(response);
    console.out << format_fields({{"user", user.value("username", "")},
                                  {"sub", user.value("sub", "")},
                                  {"scopes", joined(user.value("scopes", json::array()))}});
    if (generated) console.out << "password: " << password << "\nThe password is shown only now.\n";
}

void list_users(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", pool_path(pool_of(line)) + "/users"));
    if (printed_as_json(line, response, out)) return;
    std::vector<std::vector<std::string>> rows;
    for (const json& user : parse_body(response).value("users", json::array())) {
        rows.push_back({user.value("username", ""), user.value("sub", ""), user.value("enabled", false) ? "yes" : "no",
                        joined(user.value("scopes", json::array())), user.value("created", "")});
    }
    out << format_table({"USERNAME", "SUB", "ENABLED", "SCOPES", "CREATED"}, rows);
}

}  // namespace

bool run_user_command(const CommandLine& line, HttpClient& client, Console& console) {
    const std::string& command = line.command;
    std::ostream& out = console.out;
    if (command == "users pool create") {
        create_pool(line, client, out);
    } else if (command == "users pool list") {
        list_pools(line, client, out);
    } else if (command == "users pool delete") {
        auto response = checked(client.request("DELETE", pool_path(line.arguments.at(0))));
        if (!printed_as_json(line, response, out)) out << "deleted user pool " << line.arguments.at(0) << "\n";
    } else if (command == "users pool rotate-key") {
        auto response = checked(client.request("POST", pool_path(line.arguments.at(0)) + "/rotate-key"));
        if (!printed_as_json(line, response, out)) out << format_pool(parse_body(response));
    } else if (command == "users add") {
        add_user(line, client, console);
    } else if (command == "users list") {
        list_users(line, client, out);
    } else if (command == "users disable" || command == "users enable") {
        const bool enabled = command == "users enable";
        auto response = checked(client.request("PATCH", user_path(line), json{{"enabled", enabled}}.dump(), json_body));
        if (!printed_as_json(line, response, out)) {
            out << (enabled ? "enabled user " : "disabled user ") << line.arguments.at(0) << "\n";
        }
    } else if (command == "users delete") {
        auto response = checked(client.request("DELETE", user_path(line)));
        if (!printed_as_json(line, response, out)) out << "deleted user " << line.arguments.at(0) << "\n";
    } else {
        return false;
    }
    return true;
}

}  // namespace sofaas::cli
