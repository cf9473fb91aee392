// sofaas: the command line of sofaasd. Exit codes: cli/exit_code.h (and sofaas --help).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/exit_code.h"
#include "cli/http_client.h"
#include "common/version.h"

int main(int argc, char** argv) {
    using namespace sofaas;
    using namespace sofaas::cli;
    std::ios::sync_with_stdio(false);
    std::vector<std::string> args(argv + 1, argv + argc);
    ClientSettings settings;
    try {
        CommandLine line = parse_command_line(args);
        if (line.help) {
            std::cout << help_text(line.command);
            return 0;
        }
        if (line.version) {
            std::cout << "sofaas " << version << " (commit " << commit << ")\n";
            return 0;
        }
        if (line.command == "completion") {
            std::cout << completion_script(line.arguments.at(0));
            return 0;
        }
        settings = resolve_client_settings(line, std::getenv("SOFAAS_ENDPOINT"), std::getenv("SOFAAS_TOKEN"),
                                           "./data/admin.token");
        HttpClient client = [&] {
            try {
                return HttpClient(settings.endpoint, settings.token);
            } catch (const HttpClientError& e) {
                throw UsageError(e.what());
            }
        }();
        Console console{std::cout, std::cerr, std::cin, isatty(STDOUT_FILENO) == 1};
        try {
            run_command(line, client, console);
        } catch (const HttpClientError& e) {
            throw CommandError("cannot reach sofaasd at " + settings.endpoint + ": " + e.what(), ExitCode::unreachable);
        }
        std::cout.flush();
        return std::cout ? 0 : static_cast<int>(ExitCode::failure);
    } catch (const UsageError& e) {
        std::cerr << "sofaas: " << e.what() << "\n";
        return static_cast<int>(ExitCode::usage);
    } catch (const TokenRefused& e) {
        std::cout.flush();
        std::cerr << "unauthorized: sofaasd refused the token from " << settings.token_source
                  << " (check --token or SOFAAS_TOKEN)\n";
        return static_cast<int>(e.exit_code());
    } catch (const CommandError& e) {
        std::cout.flush();
        std::cerr << e.what() << "\n";
        return static_cast<int>(e.exit_code());
    }
}
