// sofaasd: the daemon. Reads its command line and configuration, then runs until signalled.
#include <csignal>
#include <cstdio>
#include <exception>
#include <variant>

#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/config.h"
#include "common/version.h"
#include "daemon/command_line.h"
#include "daemon/daemon.h"

namespace {

// Logs go to stderr (stdout stays free); SPDLOG_LEVEL=debug shows every request.
void set_up_logging() {
    auto logger = spdlog::stderr_color_mt("sofaasd");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(logger);
    spdlog::cfg::load_env_levels();
}

}  // namespace

int main(int argc, char** argv) {
    // A client that hangs up mid-response must cost an EPIPE, not the daemon.
    std::signal(SIGPIPE, SIG_IGN);

    const auto parsed = sofaas::parse_command_line(argc, argv);
    if (const auto* error = std::get_if<sofaas::CommandLineError>(&parsed)) {
        std::fprintf(stderr, "sofaasd: %s\n%s", error->message.c_str(), sofaas::usage_text);
        return 2;
    }
    const auto& command_line = std::get<sofaas::CommandLine>(parsed);
    if (command_line.help) {
        std::fputs(sofaas::usage_text, stdout);
        return 0;
    }
    if (command_line.version) {
        std::printf("sofaasd %s (commit %s)\n", sofaas::version, sofaas::commit);
        return 0;
    }

    set_up_logging();
    sofaas::Config config;
    try {
        if (command_line.config_file) config = sofaas::load_config(*command_line.config_file);
        if (command_line.listen) sofaas::apply_listen(config, *command_line.listen);
        if (command_line.data_dir) config.data_dir = *command_line.data_dir;
    } catch (const sofaas::ConfigError& error) {
        spdlog::error("sofaasd: {}", error.what());
        return 2;
    }

    try {
        return sofaas::run_daemon(config);
    } catch (const std::exception& error) {
        spdlog::critical("sofaasd cannot start: {}", error.what());
        return 1;
    }
}
