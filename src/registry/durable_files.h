// Writing files so that a crash leaves either the old state or the new one, never half
// of it: data fsync'd before the rename that makes it visible, directory fsync'd after.
#pragma once

#include <filesystem>
#include <string_view>

namespace sofaas {

// All throw std::system_error naming the path.
void write_file_synced(const std::filesystem::path& file, std::string_view bytes, unsigned mode = 0644);
void fsync_directory(const std::filesystem::path& directory);
// Writes `file` via a temporary sibling + fsync + rename + directory fsync.
void replace_file_atomically(const std::filesystem::path& file, std::string_view bytes);

}  // namespace sofaas
