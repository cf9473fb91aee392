// The data directory holds the billing ledger, every function's library and logs and the
// admin token. Function code runs as other users (a uid of its own per worker under a
// root daemon), so none of it may be reachable by anyone but the daemon's user.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace sofaas {

// Creates `directory` if it is missing, then takes every group and other permission away
// from it and from everything below it (directories 0700, files 0600), so a data
// directory written by an older sofaasd, or copied in, is private too. Files named
// `world_readable` keep their read permission (see registry.h: a worker reads its library
// through a descriptor after it has dropped privileges); no one else can reach them, as
// every directory above them is 0700. Symbolic links are left alone. Returns how many
// entries had to be tightened. Throws std::system_error naming the path.
size_t make_directory_private(const std::filesystem::path& directory, std::string_view world_readable = {});

}  // namespace sofaas
