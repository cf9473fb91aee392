#include "worker/worker_options.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace sofaas::worker {
namespace {

enum Option {
    library, handler, function, version, memory_mb, parent_pid, user, ephemeral_storage_mb, library_fd,
    namespaces, limits, thaw_on_exit, option_count
};

constexpr std::string_view option_names[option_count] = {
    "--library", "--handler", "--function", "--version", "--memory-mb", "--parent-pid", "--user",
    "--ephemeral-storage-mb", "--library-fd", "--namespaces", "--limits", "--thaw-on-exit"};

template <typename Number>
bool parse_number(std::string_view text, Number& value, Number minimum) {
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    return error == std::errc{} && stop == end && value >= minimum;
}

std::string bad_value(Option option, std::string_view value) {
    return "bad value for " + std::string(option_names[option]) + ": '" + std::string(value) +
           "'";
}

using OptionValues = std::string_view[option_count];  // empty: not given

// "--name value" pairs from argv[first] on, each one of `accepted`, into `values`;
// `required` must all be there. Returns what is wrong with the command line.
std::optional<std::string> read_options(int argc, char** argv, int first, std::initializer_list<Option> accepted,
                                        std::initializer_list<Option> required, OptionValues& values) {
    for (int i = first; i < argc; i += 2) {
        const std::string_view name = argv[i];
        int option = 0;
        while (option < option_count && option_names[option] != name) ++option;
        if (option == option_count || std::find(accepted.begin(), accepted.end(), option) == accepted.end())
            return "unknown option '" + std::string(name) + "'";
        if (i + 1 >= argc || argv[i + 1][0] == '\0')
            return "missing value for " + std::string(name);
        values[option] = argv[i + 1];
    }
    for (const Option option : required)
        if (values[option].empty()) return "missing " + std::string(option_names[option]);
    return std::nullopt;
}

}  // namespace

std::variant<WorkerOptions, std::string> parse_options(int argc, char** argv) {
    OptionValues values;
    if (auto error = read_options(argc, argv, 1,
                                  {library, handler, function, version, memory_mb, parent_pid, user,
                                   ephemeral_storage_mb, library_fd, limits},
                                  {library, handler, function, version, memory_mb, parent_pid}, values))
        return std::move(*error);

    WorkerOptions options;
    options.library = values[library];
    options.handler = values[handler];
    options.function = values[function];
    options.user = values[user];
    // Version 0 is a library on trial at deploy: staged, loaded once, not yet published.
    if (!parse_number(values[version], options.version, 0u))
        return bad_value(version, values[version]);
    if (!parse_number(values[memory_mb], options.memory_mb, 1u))
        return bad_value(memory_mb, values[memory_mb]);
    if (!parse_number(values[parent_pid], options.parent_pid, 1))
        return bad_value(parent_pid, values[parent_pid]);
    if (!values[ephemeral_storage_mb].empty() &&
        !parse_number(values[ephemeral_storage_mb], options.ephemeral_storage_mb, 1u))
        return bad_value(ephemeral_storage_mb, values[ephemeral_storage_mb]);
    // Never 0-3, the worker contract's own descriptors.
    if (!values[library_fd].empty() && !parse_number(values[library_fd], options.library_fd, 4))
        return bad_value(library_fd, values[library_fd]);
    if (values[limits] == "cgroup") {
        options.limits = LimitsBy::cgroup;
    } else if (!values[limits].empty() && values[limits] != "rlimits") {
        return bad_value(limits, values[limits]);
    }
    return options;
}

// argv[1] is --zygote.
std::variant<ZygoteOptions, std::string> parse_zygote_options(int argc, char** argv) {
    OptionValues values;
    if (auto error = read_options(argc, argv, 2, {parent_pid, user, namespaces, thaw_on_exit}, {parent_pid}, values))
        return std::move(*error);
    ZygoteOptions options;
    options.user = values[user];
    options.thaw_on_exit = values[thaw_on_exit];
    if (values[namespaces] == "own") {
        options.own_namespaces = true;
    } else if (!values[namespaces].empty() && values[namespaces] != "shared") {
        return bad_value(namespaces, values[namespaces]);
    }
    if (!parse_number(values[parent_pid], options.parent_pid, 1))
        return bad_value(parent_pid, values[parent_pid]);
    return options;
}

}  // namespace sofaas::worker
