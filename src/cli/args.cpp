#include "cli/args.h"

#include <algorithm>
#include <charconv>

#include "cli/exit_code.h"

namespace sofaas::cli {

const std::vector<FlagSpec>& global_flags() {
    static const std::vector<FlagSpec> flags = {
        {"endpoint", "URL", "sofaasd address (env SOFAAS_ENDPOINT, default http://127.0.0.1:8080)"},
        {"token", "TOKEN", "admin token or API key ID:SECRET (env SOFAAS_TOKEN, else ./data/admin.token)"},
        {"output", "text|json|csv|jsonl", "text for people (default), json for scripts, csv (billing only), jsonl (billing export only)"},
        {"help", "", "show help"},
        {"version", "", "print the version and the commit it was built from"},
    };
    return flags;
}

namespace {

const FlagSpec* find_flag(const std::vector<FlagSpec>& flags, std::string_view name) {
    auto it = std::find_if(flags.begin(), flags.end(), [&](const FlagSpec& f) { return f.name == name; });
    return it == flags.end() ? nullptr : &*it;
}

// What a deploy sets, and a config changes.
const std::vector<FlagSpec>& settings_flags() {
    static const std::vector<FlagSpec> flags = {
        {"handler", "SYMBOL", "handler symbol (default sofaas_handler)"},
        {"memory", "MB", "memory limit in MB (default 128)"},
        {"timeout", "SEC", "deadline in seconds, 1..300 (default 3)"},
        {"ephemeral-storage", "MB", "size of the environment's /tmp, 512..10240 (default 512)"},
        {"env", "K=V", "environment variable (repeatable)", true},
        {"route", "'METHOD /path'", "custom HTTP route, e.g. 'GET /items/{id}' (repeatable)", true},
        {"min-warm", "N", "execution environments kept warm"},
        {"max-concurrency", "N", "invocations running at once"},
        {"auth", "none|key|jwt", "whether HTTP calls need an API key that may invoke it, or a user pool's access token"},
        {"jwt-pool", "POOL", "with --auth jwt: the user pool whose access tokens are accepted"},
        {"jwt-scope", "SCOPE", "with --auth jwt: a scope the access token must carry (else 403)"},
        {"expose-errors", "", "anonymous HTTP callers see the function's errors and the X-Sofaas-* headers"},
        {"async-retries", "N", "runs again of a failed queued event, 0..2 (default 2)"},
        {"max-event-age", "SEC", "queued events older than this are not run, 60..21600 (default 21600)"},
        {"on-success", "FUNCTION", "queued events that succeed send their record to FUNCTION"},
        {"on-failure", "FUNCTION", "queued events that fail for good send their record to FUNCTION "
                                   "(else they are dead letters)"},
    };
    return flags;
}

}  // namespace

const std::vector<CommandSpec>& command_specs() {
    static const std::vector<CommandSpec> specs = {
        {"deploy", {"NAME", "FILE.so"}, settings_flags(),
         "deploy a shared library as a new version of function NAME"},
        {"config", {"NAME"}, settings_flags(),
         "new settings for NAME's latest code, as a new version"},
        {"invoke",
         {"NAME"},
         {{"data", "STRING", "event payload"},
          {"data-file", "FILE", "read the event payload from FILE (- for stdin)"},
          {"version", "N", "invoke this version instead of the latest"},
          {"qualifier", "ALIAS|N", "invoke through this alias (or version, or $LATEST)"},
          {"async", "", "queue the event and print its request id; it runs soon after"},
          {"idempotency-key", "KEY", "with --async: the same KEY within 24 h queues nothing new"},
          {"verbose", "", "print the request id, status, duration, billed ms and version on stderr"}},
         "run function NAME once and print its output"},
        {"list", {}, {}, "list deployed functions"},
        {"info", {"NAME"}, {}, "show a function's settings, versions and workers"},
        {"delete", {"NAME"}, {}, "delete a function and all its versions"},
        {"logs",
         {"NAME"},
         {{"tail", "N", "number of lines (default 100, at most 10000)"},
          {"since", "TIME", "only lines from TIME (RFC 3339, a date, or relative: 90s, 15m, 1h, 2d)"},
          {"request-id", "ID", "only the lines of that invocation"},
          {"json", "", "print each line as the JSON object it is stored as"},
          {"follow", "", "then print new lines as they are written, until interrupted (Ctrl-C)"}},
         "show a function's recent logs"},
        {"billing",
         {},
         {{"function", "NAME", "only this function"},
          {"since", "TIME", "from TIME (RFC 3339, a date, or relative: 90s, 15m, 1h, 2d)"},
          {"until", "TIME", "up to TIME"},
          {"json", "", "print the server's JSON"},
          {"records", "", "print the billing records, one JSON object per line"}},
         "summarize billing records"},
        {"billing export",
         {},
         {{"since", "TIME", "from TIME (RFC 3339, a date, or relative: 90s, 15m, 1h, 2d)"},
          {"until", "TIME", "up to TIME"},
          {"function", "NAME", "only this function"}},
         "stream every billing record of a time range, by start (--output csv, the default, or jsonl)"},
        {"alias set",
         {"NAME", "ALIAS", "VERSION"},
         {{"weight", "V=W", "send a share W (0 to 1) of the calls to version V instead"},
          {"description", "TEXT", "what the alias is for"}},
         "point alias ALIAS of NAME at VERSION (creates or updates it)"},
        {"alias list", {"NAME"}, {{"json", "", "print the server's JSON"}}, "list the aliases of NAME"},
        {"alias delete", {"NAME", "ALIAS"}, {}, "delete an alias"},
        {"keys create",
         {"NAME"},
         {{"scope", "admin|invoke|metrics", "what the key may do (default invoke; metrics: read /metrics)"},
          {"function", "NAME", "an invoke key for this function only (repeatable; default: every function)", true},
          {"json", "", "print the key as JSON"}},
         "create an API key; its secret is printed once"},
        {"keys list", {}, {{"json", "", "print the server's JSON"}}, "list API keys (never their secrets)"},
        {"keys delete", {"NAME"}, {}, "delete an API key"},
        {"roles create",
         {"NAME"},
         {{"invoke", "FUNCTION[:QUALIFIER]", "what the role's sessions may invoke (repeatable, at least one)", true},
          {"max-session", "SECONDS", "the longest session it issues, 900 to 43200 (default 3600)"},
          {"trust-pool", "POOL", "a user pool (or an external provider's issuer URL) whose ID tokens may assume it "
                                 "(repeatable, at least one)", true},
          {"json", "", "print the server's JSON"}},
         "create a role that signed-in users assume for temporary credentials"},
        {"roles list", {}, {{"json", "", "print the server's JSON"}}, "list roles"},
        {"roles show", {"NAME"}, {{"json", "", "print the server's JSON"}}, "show a role and its live sessions"},
        {"roles delete", {"NAME"}, {}, "delete a role and revoke its sessions"},
        {"roles revoke-sessions", {"NAME"}, {}, "revoke every temporary credential issued for a role"},
        {"users pool create",
         {"POOL"},
         {{"no-self-sign-up", "", "only an administrator adds users (sofaas users add)"},
          {"min-password-length", "N", "the pool's password policy, 8..256 (default 8)"},
          {"json", "", "print the server's JSON"}},
         "create a user pool, with its first signing key"},
        {"users pool list", {}, {{"json", "", "print the server's JSON"}}, "list user pools"},
        {"users pool delete", {"POOL"}, {}, "delete a user pool with its users and sessions"},
        {"users pool rotate-key",
         {"POOL"},
         {{"json", "", "print the server's JSON"}},
         "sign with a new key; the old one stays valid until its tokens expire"},
        {"users add",
         {"USERNAME"},
         {{"pool", "POOL", "the user pool"},
          {"password-file", "FILE", "read the password from FILE (- for stdin); default: generate one and print it"},
          {"scope", "SCOPE", "a scope of the user's access tokens (repeatable)", true},
          {"json", "", "print the server's JSON"}},
         "add a user to a pool"},
        {"users list", {}, {{"pool", "POOL", "the user pool"}, {"json", "", "print the server's JSON"}}, "list a pool's users"},
        {"users disable", {"USERNAME"}, {{"pool", "POOL", "the user pool"}},
         "stop a user from signing in; its sessions end and its tokens are refused"},
        {"users enable", {"USERNAME"}, {{"pool", "POOL", "the user pool"}}, "let a disabled user sign in again"},
        {"users delete", {"USERNAME"}, {{"pool", "POOL", "the user pool"}}, "delete a user; its sessions end"},
        {"queue", {"NAME"}, {{"json", "", "print the server's JSON"}}, "show how many events wait for NAME"},
        {"dlq list",
         {"NAME"},
         {{"after", "ID", "only dead letters after ID"},
          {"limit", "N", "at most N (default 100)"},
          {"json", "", "print the server's JSON"}},
         "list the events of NAME that failed for good"},
        {"dlq show", {"NAME", "ID"}, {}, "show one dead letter with its payload (JSON)"},
        {"dlq redrive",
         {"NAME"},
         {{"all", "", "every dead letter of NAME"}},
         "queue dead letters again: ID, or --all",
         {"ID"}},
        {"dlq purge", {"NAME"}, {}, "delete every dead letter of NAME"},
        {"schedule add",
         {"NAME"},
         {{"every", "'rate(5 minutes)'", "fire at a rate (minutes, hours, days; sofaas also takes seconds)"},
          {"cron", "'cron(0 12 * * ? *)'", "fire on a cron expression: AWS's six fields, or Unix's five"},
          {"timezone", "TZ", "time zone of the cron fields, e.g. Europe/Paris (default UTC)"},
          {"payload", "JSON", "the event (default: EventBridge's scheduled event)"},
          {"id", "ID", "the schedule's name (default: made from the expression)"},
          {"json", "", "print the server's JSON"}},
         "run NAME on a schedule"},
        {"schedule list", {}, {{"json", "", "print the server's JSON"}}, "list schedules", {"NAME"}},
        {"schedule pause", {"NAME", "ID"}, {}, "stop a schedule from firing"},
        {"schedule resume", {"NAME", "ID"}, {}, "let a paused schedule fire again"},
        {"schedule delete", {"NAME", "ID"}, {}, "delete a schedule"},
        {"site deploy",
         {"NAME", "DIR"},
         {{"domain", "HOST", "serve it only for requests to this host name (default: any host)"},
          {"path", "/PREFIX", "serve it at and below this path (default /)"},
          {"spa", "", "a single-page app: pages that are no file get the root's index.html"}},
         "upload directory DIR as a new version of static site NAME and serve it"},
        {"site rollback", {"NAME"}, {}, "serve an older version of site NAME: VERSION, else the one before", {"VERSION"}},
        {"site list", {}, {}, "list static sites, where each is served, and their versions"},
        {"site delete", {"NAME"}, {}, "stop serving site NAME and delete all its versions"},
        {"completion", {"SHELL"}, {}, "print a completion script: source <(sofaas completion bash)"},
    };
    return specs;
}

const CommandSpec* find_command(std::string_view name) {
    const auto& specs = command_specs();
    auto it = std::find_if(specs.begin(), specs.end(), [&](const CommandSpec& s) { return s.name == name; });
    return it == specs.end() ? nullptr : &*it;
}

std::optional<std::string> CommandLine::value(const std::string& flag) const {
    auto it = flags.find(flag);
    if (it == flags.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

const std::vector<std::string>& CommandLine::values(const std::string& flag) const {
    static const std::vector<std::string> none;
    auto it = flags.find(flag);
    return it == flags.end() ? none : it->second;
}

namespace {

// "set, list or delete" for "alias"; "" for a word that is no group of commands.
std::string actions_of(std::string_view group) {
    std::vector<std::string> actions;
    for (const auto& spec : command_specs()) {
        if (spec.name.size() > group.size() && spec.name.starts_with(group) && spec.name[group.size()] == ' ')
            actions.push_back(spec.name.substr(group.size() + 1));
    }
    std::string out;
    for (size_t i = 0; i < actions.size(); ++i) {
        out += (i == 0 ? "" : i + 1 == actions.size() ? " or " : ", ") + actions[i];
    }
    return out;
}

OutputFormat parse_output_format(std::string_view text) {
    if (text == "text") return OutputFormat::text;
    if (text == "json") return OutputFormat::json;
    if (text == "csv") return OutputFormat::csv;
    if (text == "jsonl") return OutputFormat::jsonl;
    throw UsageError("option '--output' needs text, json, csv or jsonl, not '" + std::string(text) + "'");
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
    CommandLine line;
    const CommandSpec* spec = nullptr;
    std::string group;  // "alias" of "alias set", until its action is read
    bool only_positionals = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        bool is_flag = !only_positionals && arg.size() > 2 && arg.rfind("--", 0) == 0;
        if (arg == "--" && !only_positionals) {
            only_positionals = true;
            continue;
        }
        if (!is_flag) {
            if (arg.size() > 1 && arg[0] == '-' && arg != "-" && !only_positionals) {
                throw UsageError("unknown option '" + arg + "' (options start with --)");
            }
            if (!spec && !group.empty()) {  // an option came between the group and its action
                spec = find_command(group + " " + arg);
                // Groups within groups ("users pool create"): the next word is the action.
                if (!spec && !actions_of(group + " " + arg).empty()) {
                    group = line.command = group + " " + arg;
                    continue;
                }
                if (!spec) throw UsageError("'" + group + "' has no action '" + arg + "' (it has " + actions_of(group) + ")");
                line.command = spec->name;
            } else if (!spec) {
                // Commands of two words ("keys create", "billing export"): the group, then the
                // action; before a command of one word that is also a group's name.
                if (i + 1 < args.size() && (spec = find_command(arg + " " + args[i + 1]))) {
                    ++i;
                } else {
                    spec = find_command(arg);
                }
                if (!spec && !actions_of(arg).empty()) {
                    group = line.command = arg;  // an action should follow, or --help
                    continue;
                }
                if (!spec) throw UsageError("unknown command '" + arg + "' (see sofaas --help)");
                line.command = spec->name;
            } else {
                line.arguments.push_back(arg);
            }
            continue;
        }
        std::string name = arg.substr(2);
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name.resize(eq);
        }
        // A command's own flag first: `invoke --version N` is not the global --version.
        const FlagSpec* flag = spec ? find_flag(spec->flags, name) : nullptr;
        const bool global = !flag;
        if (global) flag = find_flag(global_flags(), name);
        if (!flag) {
            throw UsageError("unknown option '--" + name + "'" + (spec ? " for '" + spec->name + "'" : std::string()) +
                             " (see sofaas " + (spec ? spec->name + " " : std::string()) + "--help)");
        }
        std::string value;
        if (flag->value_name.empty()) {
            if (inline_value) throw UsageError("option '--" + name + "' takes no value");
        } else if (inline_value) {
            value = *inline_value;
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            throw UsageError("option '--" + name + "' needs a value (" + flag->value_name + ")");
        }
        if (global && name == "help") {
            line.help = true;
        } else if (global && name == "version") {
            line.version = true;
        } else if (global && name == "endpoint") {
            line.endpoint = value;
        } else if (global && name == "token") {
            line.token = value;
        } else if (global && name == "output") {
            line.output = parse_output_format(value);
        } else {
            auto& values = line.flags[name];
            if (!values.empty() && !flag->repeatable) {
                throw UsageError("option '--" + name + "' given more than once");
            }
            values.push_back(value);
        }
    }
    if (line.help || (line.version && !spec)) return line;
    if (!group.empty() && !spec) {
        throw UsageError("'" + group + "' needs an action: " + actions_of(group) + " (see sofaas " + group + " --help)");
    }
    if (!spec) throw UsageError("missing command (see sofaas --help)");
    // The --json of the commands that had it before --output existed.
    if (line.has("json")) {
        if (line.output == OutputFormat::csv) throw UsageError("use either --json or --output csv, not both");
        line.output = OutputFormat::json;
    }
    const bool exporting = spec->name == "billing export";
    if (line.output == OutputFormat::csv && spec->name != "billing" && !exporting) {
        throw UsageError("'--output csv' is for billing only; '" + spec->name + "' prints text or json");
    }
    if (line.output == OutputFormat::jsonl && !exporting) {
        throw UsageError("'--output jsonl' is for billing export only; '" + spec->name + "' prints text or json");
    }
    if (line.output == OutputFormat::json && exporting) {
        throw UsageError("'billing export' writes csv (the default) or jsonl, one JSON object a line");
    }
    if (line.output != OutputFormat::text && spec->name == "completion") {
        throw UsageError("'completion' prints a shell script, in no other format");
    }
    if (line.arguments.size() < spec->arguments.size()) {
        throw UsageError("'" + spec->name + "' needs " + spec->arguments[line.arguments.size()] +
                         " (usage: " + command_usage(*spec).substr(0, command_usage(*spec).find('\n')) + ")");
    }
    const size_t most = spec->arguments.size() + spec->optional_arguments.size();
    if (line.arguments.size() > most) {
        throw UsageError("unexpected argument '" + line.arguments[most] + "' for '" + spec->name + "'");
    }
    return line;
}

unsigned parse_number(std::string_view flag, std::string_view text, unsigned min, unsigned max) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        throw UsageError("option '--" + std::string(flag) + "' needs a whole number from " + std::to_string(min) +
                         " to " + std::to_string(max) + ", not '" + std::string(text) + "'");
    }
    return value;
}

namespace {

std::string flag_lines(const std::vector<FlagSpec>& flags) {
    std::string out;
    for (const auto& flag : flags) {
        std::string left = "  --" + flag.name + (flag.value_name.empty() ? "" : " " + flag.value_name);
        if (left.size() < 30) left.resize(30, ' ');
        else left += "  ";
        out += left + flag.help + "\n";
    }
    return out;
}

}  // namespace

std::vector<FlagSpec> global_flags_of(const CommandSpec& spec) {
    std::vector<FlagSpec> flags;
    for (const auto& global : global_flags()) {
        if (!find_flag(spec.flags, global.name)) flags.push_back(global);
    }
    return flags;
}

std::string command_usage(const CommandSpec& spec) {
    std::string out = "sofaas " + spec.name;
    for (const auto& argument : spec.arguments) out += " " + argument;
    for (const auto& argument : spec.optional_arguments) out += " [" + argument + "]";
    if (!spec.flags.empty()) out += " [options]";
    out += "\n\n" + spec.summary + "\n";
    if (!spec.flags.empty()) out += "\noptions:\n" + flag_lines(spec.flags);
    out += "\nglobal options:\n" + flag_lines(global_flags_of(spec));
    return out;
}

std::string help_text(std::string_view command) {
    if (const CommandSpec* spec = find_command(command)) return command_usage(*spec);
    if (command.empty() || actions_of(command).empty()) return usage();
    std::string out = "sofaas " + std::string(command) + " ACTION [ARGS] [options]\n\nactions:\n";
    for (const auto& spec : command_specs()) {
        if (!spec.name.starts_with(std::string(command) + " ")) continue;
        std::string left = "  " + spec.name.substr(command.size() + 1);
        left.resize(std::max<size_t>(left.size() + 2, 12), ' ');
        out += left + spec.summary + "\n";
    }
    return out + "\nRun 'sofaas " + std::string(command) + " ACTION --help' for an action's arguments and options.\n";
}

std::string usage() {
    std::string out =
        "sofaas: the command line of sofaasd, functions-as-a-service for native code\n\n"
        "usage: sofaas [--endpoint URL] [--token TOKEN] [--output text|json|csv|jsonl] COMMAND [ARGS] [options]\n\ncommands:\n";
    for (const auto& spec : command_specs()) {
        std::string left = "  " + spec.name;
        left.resize(std::max<size_t>(left.size() + 2, 15), ' ');
        out += left + spec.summary + "\n";
    }
    out += "\nglobal options:\n" + flag_lines(global_flags());
    out += "\nexit codes:\n" + exit_codes_help();
    out += "\nRun 'sofaas COMMAND --help' for a command's options.\n";
    return out;
}

}  // namespace sofaas::cli
