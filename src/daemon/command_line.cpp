#include "daemon/command_line.h"

#include <string_view>

namespace sofaas {

const char* const usage_text =
    "usage: sofaasd [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--help] [--version]\n"
    "\n"
    "  --config FILE        JSON configuration (default: built-in defaults)\n"
    "  --listen HOST:PORT   address to serve HTTP on, overriding the config (port 0: any free port)\n"
    "  --data-dir DIR       functions, billing ledger and logs, overriding the config\n"
    "  --help               show this text\n"
    "  --version            print the version and the commit it was built from\n";

std::variant<CommandLine, CommandLineError> parse_command_line(int argc, char** argv) {
    CommandLine command_line;
    for (int i = 1; i < argc; ++i) {
        std::string_view argument = argv[i];
        if (argument == "--help" || argument == "-h") {
            command_line.help = true;
            continue;
        }
        if (argument == "--version") {
            command_line.version = true;
            continue;
        }
        // Both "--flag value" and "--flag=value".
        std::optional<std::string> inline_value;
        if (const size_t equals = argument.find('='); argument.starts_with("--") && equals != std::string_view::npos) {
            inline_value = std::string(argument.substr(equals + 1));
            argument = argument.substr(0, equals);
        }
        std::optional<std::string>* target = nullptr;
        if (argument == "--config") target = &command_line.config_file;
        if (argument == "--listen") target = &command_line.listen;
        if (argument == "--data-dir") target = &command_line.data_dir;
        if (!target) return CommandLineError{"unknown argument: " + std::string(argv[i])};
        if (inline_value) {
            *target = std::move(inline_value);
        } else if (i + 1 < argc) {
            *target = argv[++i];
        } else {
            return CommandLineError{std::string(argument) + " needs a value"};
        }
        if ((*target)->empty()) return CommandLineError{std::string(argument) + " needs a non-empty value"};
    }
    return command_line;
}

}  // namespace sofaas
