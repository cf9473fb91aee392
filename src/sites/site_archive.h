// A site's upload: one tar archive (POSIX ustar, with pax extended headers for long names),
// read whole and checked before a single file is stored. Only regular files and
// directories are taken; links, devices and FIFOs are refused, as are names that would
// leave the site's root (site_path.h), a file that is also a directory, the same name
// twice, and more files or bytes than the limits allow. The CLI writes the same format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sofaas {

struct SiteUploadLimits {
    size_t max_files = 10000;
    uint64_t max_total_bytes = 64ull * 1024 * 1024;  // of the files' contents
};

// The largest archive that can hold what `limits` allows: the request body limit of a
// site deploy.
uint64_t max_archive_bytes(const SiteUploadLimits& limits);

struct SiteUploadFile {
    std::string path;          // "assets/app.js": checked by check_upload_name
    std::string_view content;  // into the archive's bytes
};

enum class ArchiveRefusalKind {
    malformed,          // not a tar archive, a bad checksum, cut short
    unsafe_name,        // a name site_path.h refuses
    unsupported_entry,  // a symbolic or hard link, a device, a FIFO
    conflicting_names,  // twice the same name, or a name that is a file and a directory
    too_many_files,     // over max_files (413)
    too_large,          // over max_total_bytes (413)
};
struct ArchiveRefusal {
    ArchiveRefusalKind kind;
    std::string message;  // names the entry
};

std::variant<std::vector<SiteUploadFile>, ArchiveRefusal> read_site_archive(std::string_view archive,
                                                                           const SiteUploadLimits& limits);

// The archive of `files` (path, content), in the order given.
std::string write_site_archive(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace sofaas
