// The function's stdout/stderr: the worker's fds 1 and 2 are memfds the daemon drains
// after every invocation, so each invocation's logs are exactly what it wrote.
//
// A capture is a file of fixed size, sealed so that it cannot grow: the function writes
// through the file offset it shares with the daemon (fd 1/2 are the daemon's open file
// descriptions), and a write past the end fails with EPERM instead of taking more
// memory. So whatever a function prints, each stream costs the host at most
// capture_capacity_bytes (and a page) of memory per worker, outside the function's
// memory_mb, and the function goes on running; the log shows where the output was cut.
#pragma once

#include <cstddef>
#include <string>

#include "common/unique_fd.h"

namespace sofaas {

// What one invocation's stream can hold: what the log keeps of it.
constexpr size_t capture_capacity_bytes = 256 * 1024;

// A capture for one stream (`name` shows in /proc/PID/fd); invalid on failure, errno set.
UniqueFd create_capture(const char* name);

// Reads what was written since the last drain (at most max_bytes), adds a note when the
// function wrote more than that, and empties the capture (memory released, offset 0)
// for the next invocation.
std::string drain_capture(int memfd, size_t max_bytes);

}  // namespace sofaas
