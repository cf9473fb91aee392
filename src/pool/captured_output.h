// The function's stdout/stderr: the worker's fds 1 and 2 are memfds the daemon drains
// after every invocation, so each invocation's logs are exactly what it wrote.
#pragma once

#include <cstddef>
#include <string>

namespace sofaas {

// Reads the capture from offset 0 (at most max_bytes, with a note when more was written)
// and empties it for the next invocation.
std::string drain_capture(int memfd, size_t max_bytes);

}  // namespace sofaas
