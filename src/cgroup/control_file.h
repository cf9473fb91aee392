// Reading and writing cgroup control files (internal to src/cgroup). Writes truncate, as
// `echo VALUE > FILE` does: cgroupfs ignores the truncation, and a plain file (the unit
// tests' fake hierarchy) is left holding exactly the value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "common/unique_fd.h"

namespace sofaas::cgroup {

// Writes `value` into `file`; returns why not.
std::optional<std::string> write_control(const std::filesystem::path& file, std::string_view value);
// The same through a descriptor kept open (pwrite at offset 0); false on error.
bool write_control(int fd, std::string_view value);

std::optional<std::string> read_control(const std::filesystem::path& file);
// Through a descriptor kept open: one pread from offset 0.
std::optional<std::string> read_control(int fd);

UniqueFd open_control(const std::filesystem::path& file, int flags);

// "123\n" -> 123; nullopt if not a number.
std::optional<uint64_t> parse_number(std::string_view text);
// The value of `key` in "key value" lines (memory.events, cpu.stat, memory.oom_control).
std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key);
// One read of a file kept open, as a number, or as the value of `key` in it.
std::optional<uint64_t> read_number(int fd);
std::optional<uint64_t> read_keyed_value(int fd, std::string_view key);

// Whether a space-separated list (cgroup.controllers, cgroup.subtree_control) holds `word`.
bool lists(std::string_view text, std::string_view word);

// The pids listed in a cgroup.procs file.
std::vector<pid_t> listed_processes(const std::filesystem::path& procs_file);

// mkdir with mode 0755; returns why not (EEXIST included).
std::optional<std::string> make_directory(const std::filesystem::path& directory);
// rmdir; true when it is gone (ENOENT included), false when it still holds processes or
// cgroups (EBUSY), with `error` set on any other failure.
bool remove_directory(const std::filesystem::path& directory, std::string* error = nullptr);

// "what: strerror(errno)".
std::string errno_message(const std::string& what);

}  // namespace sofaas::cgroup
