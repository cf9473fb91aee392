// sofaas: the command line of sofaasd. Exit codes: 0 success, 1 failure (server error,
// function error, unreachable daemon, unreadable file), 2 usage error.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "common/version.h"

int main(int argc, char** argv) {
    using namespace sofaas;
    using namespace sofaas::cli;
    std::ios::sync_with_stdio(false);
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        CommandLine line = parse_command_line(args);
        if (line.help) {
            const CommandSpec* spec = find_command(line.command);
            std::cout << (spec ? command_usage(*spec) : usage());
            return 0;
        }
        if (line.version) {
            std::cout << "sofaas " << version << " (commit " << commit << ")\n";
            return 0;
        }
        ClientSettings settings = resolve_client_settings(line, std::getenv("SOFAAS_ENDPOINT"),
                                                          std::getenv("SOFAAS_TOKEN"), "data/admin.token");
        HttpClient client = [&] {
            try {
                return HttpClient(settings.endpoint, settings.token);
            } catch (const HttpClientError& e) {
                throw UsageError(e.what());
            }
        }();
        try {
            run_command(line, client, std::cout, std::cin);
        } catch (const HttpClientError& e) {
            throw CommandError("cannot reach sofaasd at " + settings.endpoint + ": " + e.what());
        }
        std::cout.flush();
        return std::cout ? 0 : 1;
    } catch (const UsageError& e) {
        std::cerr << "sofaas: " << e.what() << "\n";
        return 2;
    } catch (const CommandError& e) {
        std::cout.flush();
        std::cerr << e.what() << "\n";
        return 1;
    }
}
