// The sofaas command line: which commands exist, which flags each takes, and parsing
// argv into a CommandLine. Pure functions, no I/O, so they can be unit-tested.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sofaas::cli {

// A usage mistake (unknown command or flag, missing or bad argument): exit code 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct FlagSpec {
    std::string name;        // without "--"
    std::string value_name;  // "" for a switch
    std::string help;
    bool repeatable = false;
};

struct CommandSpec {
    std::string name;
    std::vector<std::string> arguments;  // positional, all required
    std::vector<FlagSpec> flags;
    std::string summary;
    std::vector<std::string> optional_arguments;  // positional, after the required ones
};

// The options every command takes (--endpoint, --token, --output, --help, --version).
const std::vector<FlagSpec>& global_flags();

// The global options a command takes: all but those it has an option of its own for
// (invoke's --version N).
std::vector<FlagSpec> global_flags_of(const CommandSpec& spec);

// Every command, in the order --help lists them.
const std::vector<CommandSpec>& command_specs();
const CommandSpec* find_command(std::string_view name);

// How a command prints its result: text for people (tables, "key: value" lines), JSON for
// scripts (the control API's answer), CSV for spreadsheets (billing only).
enum class OutputFormat { text, json, csv, jsonl };

struct CommandLine {
    std::string command;                  // "" when only --help or --version was asked for
    std::vector<std::string> arguments;   // positional, in order
    std::map<std::string, std::vector<std::string>> flags;  // switches map to {""}
    bool help = false;
    bool version = false;                 // --version: print it, run no command
    std::optional<std::string> endpoint;  // --endpoint
    std::optional<std::string> token;     // --token
    OutputFormat output = OutputFormat::text;  // --output (a command's --json: json)

    bool has(const std::string& flag) const { return flags.count(flag) != 0; }
    // The last value of a flag, or nullopt.
    std::optional<std::string> value(const std::string& flag) const;
    const std::vector<std::string>& values(const std::string& flag) const;
};

// argv without the program name. Global flags may come before or after the command.
// Throws UsageError.
CommandLine parse_command_line(const std::vector<std::string>& args);

// Validates a flag's value as a whole number in [min, max]; throws UsageError naming it.
unsigned parse_number(std::string_view flag, std::string_view text, unsigned min, unsigned max);

// Top-level help and per-command help.
std::string usage();
std::string command_usage(const CommandSpec& spec);
// --help for what was parsed: a command's, a group's ("alias": its actions), or the top one.
std::string help_text(std::string_view command);

}  // namespace sofaas::cli
