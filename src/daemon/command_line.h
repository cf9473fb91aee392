// sofaasd [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--help] [--version]
#pragma once

#include <optional>
#include <string>
#include <variant>

namespace sofaas {

struct CommandLine {
    std::optional<std::string> config_file;
    std::optional<std::string> listen;
    std::optional<std::string> data_dir;
    bool help = false;
    bool version = false;
};

struct CommandLineError {
    std::string message;
};

std::variant<CommandLine, CommandLineError> parse_command_line(int argc, char** argv);

extern const char* const usage_text;

}  // namespace sofaas
