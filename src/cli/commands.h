// The sofaas commands: each turns a parsed CommandLine into control API calls and prints
// the answer. Errors are thrown as values with their exit code, printed once by main.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli/args.h"

namespace sofaas {
class HttpClient;
}

namespace sofaas::cli {

// A failure that is not a usage mistake (server error, unreadable file, function error):
// exit code 1, `what()` is the one line printed on stderr.
class CommandError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr const char* default_endpoint = "http://127.0.0.1:8080";

// Where the CLI finds its daemon and token: the flag, else the environment, else the
// default endpoint / the token file sofaasd writes in ./data when started from here.
struct ClientSettings {
    std::string endpoint;
    std::string token;
};
ClientSettings resolve_client_settings(const CommandLine& line, const char* endpoint_env, const char* token_env,
                                       const std::filesystem::path& token_file);

// The control API target of a deploy: /v1/functions/NAME?memory=...&route=... (URL-encoded).
std::string deploy_target(const CommandLine& line);
// The settings flags of deploy and config as query parameters. An update (config) may
// give --env '' to clear the variables (and --route '' the routes).
std::vector<std::pair<std::string, std::string>> settings_params(const CommandLine& line, bool update);

// Runs line.command against the daemon; writes results to `out`, reads stdin from `in`
// (invoke --data-file -). Throws CommandError, UsageError, HttpClientError.
void run_command(const CommandLine& line, HttpClient& client, std::ostream& out, std::istream& in);

}  // namespace sofaas::cli
