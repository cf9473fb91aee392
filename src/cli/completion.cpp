#include "cli/completion.h"

#include <algorithm>
#include <map>
#include <set>

#include "cli/args.h"

namespace sofaas::cli {
namespace {

// How bash completes a positional argument, by its name in the command table.
std::string argument_kind(const CommandSpec& spec, const std::string& argument) {
    if (argument == "FILE.so" || argument == "DIR") return "file";
    if (argument == "SHELL") return "shell";
    if (argument == "NAME" && spec.name.rfind("keys ", 0) != 0 && spec.name.rfind("roles ", 0) != 0 &&
        spec.name.rfind("site ", 0) != 0)
        return "function";
    return "-";
}

// What bash offers as an option's value, read from its value name in the table: the words
// of a fixed set ("none|key"), ":file", ":function", or "" (anything).
std::string option_value_kind(const FlagSpec& flag) {
    if (flag.value_name == "FILE") return ":file";
    if (flag.value_name == "FUNCTION" || flag.name == "function") return ":function";
    const bool fixed_set = flag.value_name.find('|') != std::string::npos &&
                           flag.value_name.find_first_not_of("abcdefghijklmnopqrstuvwxyz|") == std::string::npos;
    if (!fixed_set) return "";
    std::string words = flag.value_name;
    std::replace(words.begin(), words.end(), '|', ' ');
    return words;
}

// A bash word list: options, value-taking ones marked with a trailing '=' (the script
// strips it before offering them).
std::string option_words(const std::vector<FlagSpec>& flags) {
    std::string out;
    for (const auto& flag : flags) out += (out.empty() ? "--" : " --") + flag.name + (flag.value_name.empty() ? "" : "=");
    return out;
}

// The part of the script that does not depend on the command table.
constexpr const char* bash_logic = R"BASH(
_sofaas_functions() {  # into COMPREPLY: the deployed functions whose names start with $1
    # Quietly: no daemon or no token means no names offered, never an error on the line.
    # The names come from whatever answers at the endpoint: only what a function name can
    # be is kept, and nothing of it reaches compgen -W, which would expand $(...) in it.
    local name
    while read -r name; do
        [[ $name =~ ^[A-Za-z0-9_-]+$ && $name == "$1"* ]] && COMPREPLY+=("$name")
    done < <(timeout 3 "${COMP_WORDS[0]}" "${_sofaas_connection[@]}" list 2>/dev/null | awk 'NR > 1 { print $1 }')
}

_sofaas_takes_value() {  # COMMAND OPTION: whether COMMAND's OPTION takes a value
    [[ " ${_sofaas_options[$1]} " == *" $2= "* ]]
}

_sofaas() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=""
    local command="" word i
    local -a arguments=()
    _sofaas_connection=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == --* ]]; then
            [[ $word == --*=* ]] && continue
            if _sofaas_takes_value "${command:--}" "$word"; then
                ((i++))
                [[ $i == "$COMP_CWORD" ]] && prev=$word
                [[ $word == --endpoint || $word == --token ]] && _sofaas_connection+=("$word" "${COMP_WORDS[i]}")
            fi
        elif [[ -z $command ]]; then
            command=$word
        elif [[ -n ${_sofaas_actions[$command]} ]]; then
            command="$command $word"
        else
            arguments+=("$word")
        fi
    done
    COMPREPLY=()
    if [[ -n $prev ]]; then
        case ${_sofaas_values[$prev]} in
            "") ;;
            :file) COMPREPLY=($(compgen -f -- "$cur")) ;;
            :function) _sofaas_functions "$cur" ;;
            *) COMPREPLY=($(compgen -W "${_sofaas_values[$prev]}" -- "$cur")) ;;
        esac
        return 0
    fi
    if [[ $cur == -* ]]; then
        local options=${_sofaas_options[${command:--}]}
        COMPREPLY=($(compgen -W "${options//=/}" -- "$cur"))
        return 0
    fi
    if [[ -z $command ]]; then
        COMPREPLY=($(compgen -W "$_sofaas_commands" -- "$cur"))
        return 0
    fi
    if [[ -n ${_sofaas_actions[$command]} ]]; then
        COMPREPLY=($(compgen -W "${_sofaas_actions[$command]}" -- "$cur"))
        return 0
    fi
    local -a kinds=(${_sofaas_arguments[$command]})
    case ${kinds[${#arguments[@]}]} in
        function) _sofaas_functions "$cur" ;;
        file) COMPREPLY=($(compgen -f -- "$cur")) ;;
        shell) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
    esac
    return 0
}

complete -o default -F _sofaas sofaas
)BASH";

}  // namespace

std::string completion_script(const std::string& shell) {
    if (shell != "bash") throw UsageError("'completion' knows bash only, not '" + shell + "'");
    std::string commands;
    std::set<std::string> listed;
    std::string actions, options, arguments;
    std::map<std::string, std::string> value_kinds;  // by option: the same option means the same everywhere
    const auto note_values = [&](const std::vector<FlagSpec>& flags) {
        for (const auto& flag : flags) {
            if (auto kind = option_value_kind(flag); !flag.value_name.empty() && !kind.empty())
                value_kinds["--" + flag.name] = kind;
        }
    };
    note_values(global_flags());
    std::map<std::string, std::string> actions_of_group;
    for (const auto& spec : command_specs()) {
        const auto space = spec.name.find(' ');
        const std::string first = spec.name.substr(0, space);
        if (listed.insert(first).second) commands += (commands.empty() ? "" : " ") + first;
        // Every group of words before the last is a group whose actions are the next words
        // ("users" has "pool" and "add", "users pool" has "create").
        for (size_t end = space; end != std::string::npos; end = spec.name.find(' ', end + 1)) {
            const size_t next = spec.name.find(' ', end + 1);
            const std::string action = spec.name.substr(end + 1, next == std::string::npos ? next : next - end - 1);
            std::string& group = actions_of_group[spec.name.substr(0, end)];
            if ((" " + group + " ").find(" " + action + " ") == std::string::npos) {
                group += (group.empty() ? "" : " ") + action;
            }
        }
        std::vector<FlagSpec> flags = spec.flags;
        for (auto& global : global_flags_of(spec)) flags.push_back(std::move(global));
        options += "    [\"" + spec.name + "\"]=\"" + option_words(flags) + "\"\n";
        note_values(spec.flags);
        std::string kinds;
        for (const auto& argument : spec.arguments) kinds += (kinds.empty() ? "" : " ") + argument_kind(spec, argument);
        for (const auto& argument : spec.optional_arguments) {
            kinds += (kinds.empty() ? "" : " ") + argument_kind(spec, argument);
        }
        arguments += "    [\"" + spec.name + "\"]=\"" + kinds + "\"\n";
    }
    for (const auto& [group, words] : actions_of_group) actions += "    [\"" + group + "\"]=\"" + words + "\"\n";
    std::string values;
    for (const auto& [option, kind] : value_kinds) values += "    [\"" + option + "\"]=\"" + kind + "\"\n";
    return "# bash completion for sofaas: source <(sofaas completion bash), or save it as\n"
           "# /etc/bash_completion.d/sofaas (or ~/.local/share/bash-completion/completions/sofaas).\n"
           "_sofaas_commands=\"" + commands + "\"\n"
           "declare -gA _sofaas_actions=(\n" + actions + ")\n"
           "# The options of each command, the global ones included; \"-\": before the command.\n"
           "# A trailing '=' marks an option that takes a value.\n"
           "declare -gA _sofaas_options=(\n" + options +
           "    [\"-\"]=\"" + option_words(global_flags()) + "\"\n)\n"
           "# What each positional argument is: a function name, a file, a shell, or '-' (anything).\n"
           "declare -gA _sofaas_arguments=(\n" + arguments + ")\n"
           "# What an option's value is: one of a set of words, a file, a function name.\n"
           "declare -gA _sofaas_values=(\n" + values + ")\n" + bash_logic;
}

}  // namespace sofaas::cli
