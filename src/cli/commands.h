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
#include "cli/exit_code.h"

namespace sofaas {
class HttpClient;
}

namespace sofaas::cli {

// A failure that is not a usage mistake (server error, unreadable file, function error):
// `what()` is the one line printed on stderr, `exit_code()` tells its kind.
class CommandError : public std::runtime_error {
public:
    explicit CommandError(const std::string& message, ExitCode exit_code = ExitCode::failure)
        : std::runtime_error(message), exit_code_(exit_code) {}
    ExitCode exit_code() const { return exit_code_; }

private:
    ExitCode exit_code_;
};

// sofaasd answered 401: the token was not one it knows. main names where it came from.
class TokenRefused : public CommandError {
public:
    TokenRefused() : CommandError("unauthorized", ExitCode::unauthorized) {}
};

inline constexpr const char* default_endpoint = "http://127.0.0.1:8080";

// Where the CLI finds its daemon and token: the flag, else the environment, else the
// default endpoint / the token file sofaasd writes in ./data when started from here.
struct ClientSettings {
    std::string endpoint;
    std::string token;
    std::string token_source;  // "--token", "SOFAAS_TOKEN" or the token file's path
};
// Throws CommandError (ExitCode::unauthorized) when there is no token at all, naming where
// it looked.
ClientSettings resolve_client_settings(const CommandLine& line, const char* endpoint_env, const char* token_env,
                                       const std::filesystem::path& token_file);

// The control API target of a deploy: /v1/functions/NAME?memory=...&route=... (URL-encoded).
std::string deploy_target(const CommandLine& line);
// The settings flags of deploy and config as query parameters. An update (config) may
// give --env '' to clear the variables (and --route '' the routes).
std::vector<std::pair<std::string, std::string>> settings_params(const CommandLine& line, bool update);

// Where a command writes its result (out) and its diagnostics (err: invoke --verbose), what
// it reads (in: invoke --data-file -), and whether out is a terminal (then invoke ends its
// output with a newline).
struct Console {
    std::ostream& out;
    std::ostream& err;
    std::istream& in;
    bool out_is_terminal = false;
};

// Runs line.command against the daemon. Throws CommandError, UsageError, HttpClientError.
void run_command(const CommandLine& line, HttpClient& client, Console& console);

}  // namespace sofaas::cli
