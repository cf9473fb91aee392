// Running a program to completion with its output captured: how the tests run the CLI.
#pragma once

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace sofaas::testing {

struct ProcessResult {
    int exit_code = -1;  // 128 + signal when killed by a signal
    std::string out;     // what it wrote to stdout
    std::string err;     // what it wrote to stderr
};

// For assertion messages: the exit code and both streams.
std::ostream& operator<<(std::ostream& out, const ProcessResult& result);

// Spawns `program args...` with the current environment plus `env` (overriding), feeds
// `input` to its stdin, and collects stdout and stderr (polled together, so neither pipe
// can fill up and deadlock). A program still running after `timeout` is killed and the
// result says so on `err`.
ProcessResult run_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                          const std::vector<std::pair<std::string, std::string>>& env = {},
                          const std::string& input = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The current environment with `env` applied, as "K=V" strings for execve/posix_spawn.
std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& env);

// Null-terminated pointers into `strings`, as execve/posix_spawn take argv and envp.
std::vector<char*> c_strings(std::vector<std::string>& strings);

// Exit code of a waitpid() status: the code, or 128 + signal.
int exit_code_of(int wait_status);

}  // namespace sofaas::testing
