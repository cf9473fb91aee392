// The few file primitives the storage modules share. Durable writes leave a crash with
// either the old state or the new one, never half of it: data fsync'd before the rename
// that makes it visible, the directory fsync'd after. All throw std::system_error naming
// the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace sofaas {

// Throws std::system_error(error) saying "WHAT PATH".
[[noreturn]] void throw_file_error(int error, const std::string& what, const std::filesystem::path& path);
// The same with errno.
[[noreturn]] void throw_file_error(const std::string& what, const std::filesystem::path& path);

// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
void write_all(int fd, std::string_view bytes, const std::filesystem::path& path);
std::string read_whole_file(const std::filesystem::path& file);

// `mode` exactly, whatever the umask; private to the daemon's user by default, as
// everything in the data directory is.
void write_file_synced(const std::filesystem::path& file, std::string_view bytes, unsigned mode = 0600);
void fsync_directory(const std::filesystem::path& directory);
// Writes `file` via a temporary sibling + fsync + rename + directory fsync.
void replace_file_atomically(const std::filesystem::path& file, std::string_view bytes, unsigned mode = 0644);

}  // namespace sofaas
