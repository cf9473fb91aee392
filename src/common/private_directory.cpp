#include "common/private_directory.h"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace sofaas {
namespace {

namespace fs = std::filesystem;

constexpr mode_t group_and_other = S_IRWXG | S_IRWXO;
constexpr mode_t read_by_all = S_IRGRP | S_IROTH;

[[noreturn]] void fail(const char* what, const fs::path& path) {
    throw std::system_error(errno, std::generic_category(), std::string(what) + " " + path.string());
}

// lstat + chmod: a symbolic link is never followed out of the directory.
bool tighten(const fs::path& path, std::string_view world_readable) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) fail("cannot stat", path);
    if (S_ISLNK(status.st_mode)) return false;
    mode_t taken = group_and_other;
    if (S_ISREG(status.st_mode) && !world_readable.empty() && path.filename() == world_readable) taken &= ~read_by_all;
    if ((status.st_mode & taken) == 0) return false;
    if (::chmod(path.c_str(), status.st_mode & 07777 & ~taken) != 0) fail("cannot chmod", path);
    return true;
}

}  // namespace

size_t make_directory_private(const fs::path& directory, std::string_view world_readable) {
    std::error_code ec;
    fs::create_directories(directory, ec);
    if (ec) throw std::system_error(ec, "cannot create " + directory.string());
    size_t tightened = tighten(directory, {}) ? 1 : 0;
    for (fs::recursive_directory_iterator entry(directory, ec), end; !ec && entry != end; entry.increment(ec)) {
        if (tighten(entry->path(), world_readable)) ++tightened;
    }
    if (ec) throw std::system_error(ec, "cannot read " + directory.string());
    return tightened;
}

}  // namespace sofaas
