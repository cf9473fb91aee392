// What the CLI prints for scripts: --output json on every command (parsed back here),
// billing as CSV, invoke --verbose, the newline a terminal gets, --version, and the bash
// completion script, run in a real bash.
#include <fcntl.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/programs.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class CliOutput : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        DaemonTest::SetUpTestSuite();
        for (const char* name : {"hello", "sleep"}) ASSERT_EQ(daemon().deploy(name, function_library(name)).exit_code, 0);
    }

    // `sofaas --output json ARGS...`: exit code 0 and one JSON document on stdout.
    static json json_of(std::vector<std::string> args) {
        args.insert(args.begin(), {"--output", "json"});
        auto result = daemon().cli(args);
        EXPECT_EQ(result.exit_code, 0) << result;
        EXPECT_EQ(result.err, "") << result;
        EXPECT_TRUE(result.out.ends_with("\n")) << result;
        json parsed = json::parse(result.out, nullptr, false);
        EXPECT_FALSE(parsed.is_discarded()) << result;
        return parsed;
    }
};

TEST_F(CliOutput, JsonForTheFunctionCommands) {
    EXPECT_EQ(json_of({"deploy", "json-fn", function_library("hello").string()})["version"], 1);
    EXPECT_EQ(json_of({"config", "json-fn", "--memory", "256"})["memory_mb"], 256);
    const json list = json_of({"list"});
    bool listed = false;
    for (const auto& function : list["functions"]) listed = listed || function["name"] == "json-fn";
    EXPECT_TRUE(listed) << list.dump();
    const json info = json_of({"info", "json-fn"});
    EXPECT_EQ(info["function"]["name"], "json-fn");
    EXPECT_EQ(info["versions"], json::array({1, 2}));

    const json invoked = json_of({"invoke", "json-fn", "--data", "json"});
    EXPECT_EQ(invoked["output"], "Hello, json!");
    EXPECT_EQ(invoked["status"], "ok");
    EXPECT_EQ(invoked["version"], 2);
    EXPECT_TRUE(invoked["request_id"].is_string());
    EXPECT_TRUE(invoked["duration_ms"].is_number());
    EXPECT_TRUE(invoked["billed_ms"].is_number_integer());
    EXPECT_TRUE(invoked.contains("init_ms")) << "a number for a cold start, else null: " << invoked.dump();
    EXPECT_EQ(invoked["error_type"], nullptr);
    const json queued = json_of({"invoke", "json-fn", "--async", "--data", "later"});
    EXPECT_EQ(queued["status"], "queued");
    EXPECT_TRUE(queued["request_id"].is_string());
    EXPECT_EQ(json_of({"queue", "json-fn"})["function"], "json-fn");

    auto logs = daemon().cli({"logs", "json-fn", "--output", "json"});
    ASSERT_EQ(logs.exit_code, 0) << logs;
    std::istringstream log_lines(logs.out);
    size_t parsed = 0;
    for (std::string text; std::getline(log_lines, text); ++parsed) {
        EXPECT_TRUE(json::parse(text).contains("message")) << text;  // one object per line
    }
    EXPECT_GE(parsed, 3u) << "START, END and REPORT at least: " << logs.out;
    const json summary = json_of({"billing", "--function", "json-fn"});
    EXPECT_GE(summary["total"]["invocations"], 1);
    const json records = json_of({"billing", "--function", "json-fn", "--records"});
    EXPECT_FALSE(records["records"].empty());
    EXPECT_EQ(json_of({"delete", "json-fn"})["deleted"], "json-fn");
}

TEST_F(CliOutput, JsonForAliasesKeysDeadLettersAndSchedules) {
    ASSERT_EQ(daemon().deploy("json-more", function_library("hello")).exit_code, 0);
    EXPECT_EQ(json_of({"alias", "set", "json-more", "live", "1"})["version"], 1);
    EXPECT_EQ(json_of({"alias", "list", "json-more"})["aliases"][0]["name"], "live");
    EXPECT_EQ(json_of({"alias", "delete", "json-more", "live"})["deleted"], "live");

    const json key = json_of({"keys", "create", "json-key"});
    EXPECT_EQ(key["scope"], "invoke");
    EXPECT_TRUE(key["secret_access_key"].is_string());
    EXPECT_TRUE(json_of({"keys", "list"})["keys"].is_array());
    EXPECT_EQ(json_of({"keys", "delete", "json-key"})["deleted"], "json-key");

    EXPECT_TRUE(json_of({"dlq", "list", "json-more"})["dead_letters"].is_array());
    EXPECT_EQ(json_of({"dlq", "redrive", "json-more", "--all"})["redriven"], 0);
    EXPECT_EQ(json_of({"dlq", "purge", "json-more"})["purged"], 0);

    const json schedule = json_of({"schedule", "add", "json-more", "--every", "1 day", "--id", "daily"});
    EXPECT_EQ(schedule["id"], "daily");
    EXPECT_EQ(json_of({"schedule", "list", "json-more"})["schedules"][0]["id"], "daily");
    EXPECT_EQ(json_of({"schedule", "pause", "json-more", "daily"})["state"], "paused");
    EXPECT_EQ(json_of({"schedule", "resume", "json-more", "daily"})["state"], "enabled");
    EXPECT_EQ(json_of({"schedule", "delete", "json-more", "daily"})["deleted"], "daily");
}

TEST_F(CliOutput, TheOldJsonFlagsStillWork) {
    auto flag = daemon().cli({"keys", "list", "--json"});
    ASSERT_EQ(flag.exit_code, 0) << flag;
    EXPECT_TRUE(json::parse(flag.out).contains("keys"));
    auto billing = daemon().cli({"billing", "--json"});
    ASSERT_EQ(billing.exit_code, 0) << billing;
    EXPECT_TRUE(json::parse(billing.out).contains("total"));
}

TEST_F(CliOutput, AFailedInvocationIsStillARecordInJson) {
    auto result = daemon().cli({"--output", "json", "invoke", "sleep", "--data", "not a number"});
    EXPECT_EQ(result.exit_code, 6) << result;
    const json record = json::parse(result.out);
    EXPECT_EQ(record["status"], "error");
    EXPECT_EQ(record["error_type"], "InvalidInput");
    EXPECT_EQ(record["output"], nullptr);
    EXPECT_EQ(result.err.rfind("InvalidInput: ", 0), 0u) << result;
}

TEST_F(CliOutput, BillingAsCsv) {
    ASSERT_EQ(daemon().deploy("csv-fn", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon().cli({"invoke", "csv-fn", "--data", "a"}).exit_code, 0);
    auto summary = daemon().cli({"billing", "--function", "csv-fn", "--output", "csv"});
    ASSERT_EQ(summary.exit_code, 0) << summary;
    std::istringstream lines(summary.out);
    std::string header, row, extra;
    std::getline(lines, header);
    std::getline(lines, row);
    EXPECT_EQ(header, "function,invocations,errors,timeouts,cold_starts,billed_ms,gb_seconds,cost_usd");
    EXPECT_EQ(row.rfind("csv-fn,1,0,0,1,", 0), 0u) << summary.out;
    EXPECT_FALSE(std::getline(lines, extra)) << "one row per function, no total: " << summary.out;

    auto records = daemon().cli({"billing", "--function", "csv-fn", "--records", "--output", "csv"});
    ASSERT_EQ(records.exit_code, 0) << records;
    EXPECT_EQ(records.out.rfind("request_id,function,version,trigger,", 0), 0u) << records.out;
    EXPECT_NE(records.out.find(",csv-fn,1,invoke,"), std::string::npos) << records.out;
    EXPECT_NE(records.out.find(",csv-fn,0,deploy,"), std::string::npos) << records.out;

    auto elsewhere = daemon().cli({"list", "--output", "csv"});
    EXPECT_EQ(elsewhere.exit_code, 2) << elsewhere;
}

TEST_F(CliOutput, VerboseInvokeTellsWhatHappenedOnStderr) {
    auto result = daemon().cli({"invoke", "hello", "--data", "verbose", "--verbose"});
    ASSERT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "Hello, verbose!") << "a pipe gets the bytes as returned";
    std::smatch id;
    ASSERT_TRUE(std::regex_search(result.err, id, std::regex("request id: +([0-9a-f-]{36})\n"))) << result.err;
    for (const char* fact : {"\nstatus:          ok\n", "\nversion:         1\n", "\nduration:        ", "\nbilled:   "})
        EXPECT_NE(result.err.find(fact), std::string::npos) << fact << " missing from\n" << result.err;
    // The request id is the billing record's.
    bool billed = false;
    for (const auto& record : daemon().billing_records("hello")) billed = billed || record["request_id"] == id[1].str();
    EXPECT_TRUE(billed) << id[1];

    auto failed = daemon().cli({"invoke", "sleep", "--data", "oops", "--verbose"});
    EXPECT_EQ(failed.exit_code, 6) << failed;
    EXPECT_NE(failed.err.find("status:          error\n"), std::string::npos) << failed;
}

// The CLI with stdin, stdout and stderr on a pseudo-terminal: what the terminal showed.
ProcessResult run_on_terminal(const DaemonProcess& daemon, const std::vector<std::string>& args) {
    std::vector<std::string> strings{(programs_dir() / "sofaas").string()};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& text : strings) argv.push_back(text.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings =
        environment_with({{"SOFAAS_ENDPOINT", daemon.endpoint()}, {"SOFAAS_TOKEN", daemon.token()}});
    std::vector<char*> envp;
    for (auto& text : env_strings) envp.push_back(text.data());
    envp.push_back(nullptr);

    int terminal = -1;
    const pid_t pid = ::forkpty(&terminal, nullptr, nullptr, nullptr);
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "forkpty");
    if (pid == 0) {
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ProcessResult result;
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(terminal, buffer, sizeof buffer);
        if (got > 0) result.out.append(buffer, static_cast<size_t>(got));
        else if (got < 0 && errno == EINTR) continue;
        else break;  // EIO: the CLI has exited and closed its side
    }
    ::close(terminal);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

TEST_F(CliOutput, ATerminalGetsANewlineAfterTheOutput) {
    auto result = run_on_terminal(daemon(), {"invoke", "hello", "--data", "tty"});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "Hello, tty!\r\n");  // the terminal shows "\n" as "\r\n"
}

TEST_F(CliOutput, VersionNamesTheCommit) {
    auto cli = run_process(programs_dir() / "sofaas", {"--version"});
    auto sofaasd = run_process(programs_dir() / "sofaasd", {"--version"});
    ASSERT_EQ(cli.exit_code, 0) << cli;
    ASSERT_EQ(sofaasd.exit_code, 0) << sofaasd;
    const std::regex shape(R"((sofaasd?) \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}|unknown)\)\n)");
    std::smatch cli_match, daemon_match;
    ASSERT_TRUE(std::regex_match(cli.out, cli_match, shape)) << cli.out;
    ASSERT_TRUE(std::regex_match(sofaasd.out, daemon_match, shape)) << sofaasd.out;
    EXPECT_EQ(cli_match[2], daemon_match[2]);
}

// Runs `script` in bash with the completion loaded; returns what it printed.
ProcessResult in_bash(const DaemonProcess& daemon, const std::string& script) {
    const std::string sofaas = (programs_dir() / "sofaas").string();
    // Completes the words given as if typed after "sofaas", the last one being completed.
    const std::string prelude = "source <('" + sofaas + "' completion bash) || exit 9\n" +
                                "complete_words() { COMP_WORDS=('" + sofaas + "' \"$@\"); COMP_CWORD=$#; "
                                "_sofaas; (( ${#COMPREPLY[@]} )) && printf '%s\\n' \"${COMPREPLY[@]}\" | sort; }\n";
    return run_process("/bin/bash", {"-c", prelude + script},
                       {{"SOFAAS_ENDPOINT", daemon.endpoint()}, {"SOFAAS_TOKEN", daemon.token()}});
}

TEST_F(CliOutput, BashCompletionKnowsCommandsOptionsAndFunctions) {
    auto registered = in_bash(daemon(), "complete -p sofaas");
    ASSERT_EQ(registered.exit_code, 0) << registered;
    EXPECT_EQ(registered.out, "complete -o default -F _sofaas sofaas\n");

    auto commands = lines_of(in_bash(daemon(), "complete_words ''").out);
    for (const char* command : {"deploy", "invoke", "alias", "keys", "dlq", "schedule", "billing", "completion"})
        EXPECT_NE(std::find(commands.begin(), commands.end(), command), commands.end()) << command;
    EXPECT_EQ(lines_of(in_bash(daemon(), "complete_words alias ''").out),
              (std::vector<std::string>{"delete", "list", "set"}));
    EXPECT_EQ(lines_of(in_bash(daemon(), "complete_words sch p").out), (std::vector<std::string>{}));
    EXPECT_EQ(lines_of(in_bash(daemon(), "complete_words schedule p").out), (std::vector<std::string>{"pause"}));
    EXPECT_EQ(lines_of(in_bash(daemon(), "complete_words invoke hello --ver").out),
              (std::vector<std::string>{"--verbose", "--version"}));
    EXPECT_EQ(lines_of(in_bash(daemon(), "complete_words --output ''").out),
              (std::vector<std::string>{"csv", "json", "jsonl", "text"}));
    EXPECT_EQ(lines_of(in_bash(daemon(), "complete_words keys create ci --scope ''").out),
              (std::vector<std::string>{"admin", "invoke", "metrics"}));
    // A value-taking option's value is not taken for an argument: FILE.so is next.
    EXPECT_EQ(lines_of(in_bash(daemon(), "cd /usr/lib && complete_words deploy --memory 256 x os-rel").out),
              (std::vector<std::string>{"os-release"}));

    // Function names come from the daemon.
    auto names = in_bash(daemon(), "complete_words invoke he");
    EXPECT_EQ(lines_of(names.out), (std::vector<std::string>{"hello"})) << names;
    auto everything = lines_of(in_bash(daemon(), "complete_words info ''").out);
    EXPECT_NE(std::find(everything.begin(), everything.end(), "sleep"), everything.end());
    // Without a daemon, no names and no error on the line.
    auto offline = run_process("/bin/bash",
                               {"-c", "source <('" + (programs_dir() / "sofaas").string() +
                                          "' completion bash); COMP_WORDS=(sofaas invoke ''); COMP_CWORD=2; "
                                          "_sofaas; echo \"${#COMPREPLY[@]}\""},
                               {{"SOFAAS_ENDPOINT", "http://127.0.0.1:1"}, {"SOFAAS_TOKEN", "x"}});
    EXPECT_EQ(offline.out, "0\n") << offline;
    EXPECT_EQ(offline.err, "") << offline;
}

// Function names are whatever answers at the endpoint says: a name that is shell code is
// neither run nor offered. The "sofaas" completing here is a script printing such a list.
TEST_F(CliOutput, CompletionRunsNothingAHostileEndpointNames) {
    const TempDir dir;
    const std::filesystem::path marker = dir.path() / "ran";
    const std::filesystem::path fake = dir.path() / "sofaas";
    std::ofstream(fake) << "#!/bin/sh\nprintf 'NAME VERSION\\n$(touch${IFS}" << marker.string()
                        << ") 1\\n`touch${IFS}" << marker.string() << "` 1\\nhello 1\\n'\n";
    std::filesystem::permissions(fake, std::filesystem::perms(0755));
    auto completed = run_process(
        "/bin/bash", {"-c", "source <('" + (programs_dir() / "sofaas").string() + "' completion bash); COMP_WORDS=('" +
                                fake.string() + "' invoke ''); COMP_CWORD=2; _sofaas; printf '%s\\n' \"${COMPREPLY[@]}\""});
    EXPECT_EQ(completed.out, "hello\n") << completed;
    EXPECT_FALSE(std::filesystem::exists(marker)) << "completion ran a function name";
}

TEST_F(CliOutput, CompletionOfAnotherShellIsAUsageMistake) {
    auto result = daemon().cli({"completion", "tcsh"});
    EXPECT_EQ(result.exit_code, 2) << result;
    EXPECT_NE(result.err.find("bash"), std::string::npos) << result;
}

}  // namespace
}  // namespace sofaas::testing
