#include "sites/site_archive.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "sites/site_path.h"

namespace sofaas {
namespace {

constexpr size_t block = 512;

// The fields of a ustar header block (POSIX pax, "ustar Interchange Format").
struct Field {
    size_t offset;
    size_t length;
};
constexpr Field name_field{0, 100};
constexpr Field mode_field{100, 8};
constexpr Field size_field{124, 12};
constexpr Field checksum_field{148, 8};
constexpr size_t typeflag_offset = 156;
constexpr Field magic_field{257, 6};
constexpr Field version_field{263, 2};
constexpr Field prefix_field{345, 155};

uint64_t padded(uint64_t size) { return (size + block - 1) / block * block; }

std::string_view field_of(std::string_view header, Field field) { return header.substr(field.offset, field.length); }

// A text field: up to its first NUL. Anything but NULs after that is a name with a NUL in
// it, which the file system would cut short: refused.
std::optional<std::string_view> text_of(std::string_view field) {
    const size_t nul = field.find('\0');
    if (nul == std::string_view::npos) return field;
    if (field.find_first_not_of('\0', nul) != std::string_view::npos) return std::nullopt;
    return field.substr(0, nul);
}

// Octal digits, with leading spaces and trailing spaces or NULs, as tar writers pad them.
std::optional<uint64_t> octal_of(std::string_view field) {
    size_t i = 0;
    while (i < field.size() && field[i] == ' ') ++i;
    uint64_t value = 0;
    size_t digits = 0;
    for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i, ++digits) {
        if (value > (UINT64_MAX >> 3)) return std::nullopt;
        value = value * 8 + static_cast<uint64_t>(field[i] - '0');
    }
    for (; i < field.size(); ++i) {
        if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
    }
    if (digits == 0) return std::nullopt;
    return value;
}

bool checksum_matches(std::string_view header) {
    const auto stored = octal_of(field_of(header, checksum_field));
    if (!stored) return false;
    uint64_t sum = 0;
    for (size_t i = 0; i < block; ++i) {
        const bool in_checksum = i >= checksum_field.offset && i < checksum_field.offset + checksum_field.length;
        sum += in_checksum ? ' ' : static_cast<unsigned char>(header[i]);
    }
    return sum == *stored;
}

bool is_zero_block(std::string_view header) { return header.find_first_not_of('\0') == std::string_view::npos; }

// Pax extended header records: "LENGTH KEY=VALUE\n" each. Only path and size matter here;
// the others (mtime, uid, ...) are of no use to a site.
struct PaxOverrides {
    std::optional<std::string> path;
    std::optional<uint64_t> size;
};
std::optional<PaxOverrides> read_pax(std::string_view records) {
    PaxOverrides overrides;
    while (!records.empty()) {
        const size_t space = records.find(' ');
        if (space == std::string_view::npos || space == 0 || space > 20) return std::nullopt;
        uint64_t length = 0;
        for (const char c : records.substr(0, space)) {
            if (c < '0' || c > '9') return std::nullopt;
            length = length * 10 + static_cast<uint64_t>(c - '0');
        }
        if (length <= space + 1 || length > records.size() || records[length - 1] != '\n') return std::nullopt;
        const std::string_view record = records.substr(space + 1, length - space - 2);
        records.remove_prefix(length);
        const size_t equals = record.find('=');
        if (equals == std::string_view::npos) return std::nullopt;
        const std::string_view key = record.substr(0, equals);
        const std::string_view value = record.substr(equals + 1);
        if (key == "path") overrides.path = std::string(value);
        if (key == "size") {
            uint64_t size = 0;
            if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string_view::npos) {
                return std::nullopt;
            }
            for (const char c : value) size = size * 10 + static_cast<uint64_t>(c - '0');
            overrides.size = size;
        }
    }
    return overrides;
}

std::string_view entry_kind(char typeflag) {
    switch (typeflag) {
        case '1': return "a hard link";
        case '2': return "a symbolic link";
        case '3': return "a character device";
        case '4': return "a block device";
        case '6': return "a FIFO";
        case '7': return "a contiguous file";
        case 'L':
        case 'K': return "a GNU long-name entry (write the archive with --format=posix)";
        default: return "an entry of an unknown type";
    }
}

ArchiveRefusal refuse(ArchiveRefusalKind kind, std::string message) { return ArchiveRefusal{kind, std::move(message)}; }

// "name" as written in an error message: printable, shortened.
std::string shown(std::string_view name) {
    std::string out;
    for (const char c : name.substr(0, 120)) {
        const auto byte = static_cast<unsigned char>(c);
        out += byte < 0x20 || byte == 0x7f || c == '\\' ? fmt::format("\\x{:02x}", byte) : std::string(1, c);
    }
    if (name.size() > 120) out += "...";
    return out;
}

// What names a file within the site: without a leading "./" (tar -C DIR . writes those),
// and a directory's without its trailing "/". nullopt for the root itself.
std::optional<std::string_view> site_relative(std::string_view name, bool directory) {
    while (name.starts_with("./")) name.remove_prefix(2);
    if (directory) {
        while (name.ends_with('/')) name.remove_suffix(1);
        if (name.empty() || name == ".") return std::nullopt;
    }
    return name;
}

// A file "a" and a file "a/b": one of them cannot be stored.
std::optional<std::string> file_below_a_file(const std::set<std::string, std::less<>>& files,
                                             const std::set<std::string, std::less<>>& directories) {
    for (const std::string& file : files) {
        if (directories.contains(file)) return file;
        for (size_t slash = file.find('/'); slash != std::string::npos; slash = file.find('/', slash + 1)) {
            if (files.contains(std::string_view(file).substr(0, slash))) return file;
        }
    }
    return std::nullopt;
}

}  // namespace

uint64_t max_archive_bytes(const SiteUploadLimits& limits) {
    // Each file: its header, a pax header and its records (a long name), its padding; then
    // the two zero blocks that end the archive, and room for directory entries.
    const uint64_t per_file = 4 * block + max_site_path_bytes;
    return limits.max_total_bytes + (2 * limits.max_files + 2) * per_file;
}

std::variant<std::vector<SiteUploadFile>, ArchiveRefusal> read_site_archive(std::string_view archive,
                                                                           const SiteUploadLimits& limits) {
    std::vector<SiteUploadFile> files;
    std::set<std::string, std::less<>> file_names, directory_names;
    uint64_t total = 0;
    size_t entries = 0;
    PaxOverrides pending;
    bool ended = false;
    for (size_t offset = 0; offset < archive.size();) {
        if (archive.size() - offset < block) return refuse(ArchiveRefusalKind::malformed, "The archive is cut short.");
        const std::string_view header = archive.substr(offset, block);
        offset += block;
        if (is_zero_block(header)) {
            ended = true;
            break;
        }
        if (++entries > 3 * limits.max_files + 3) {
            return refuse(ArchiveRefusalKind::too_many_files,
                          fmt::format("The archive has more than {} entries.", 3 * limits.max_files + 3));
        }
        if (!checksum_matches(header)) {
            return refuse(ArchiveRefusalKind::malformed, "Not a tar archive: a header's checksum does not match.");
        }
        const std::string_view magic = field_of(header, magic_field);
        if (!magic.starts_with("ustar")) {
            return refuse(ArchiveRefusalKind::malformed, "Not a POSIX (ustar or pax) tar archive.");
        }
        const auto size_in_header = octal_of(field_of(header, size_field));
        if (!size_in_header) return refuse(ArchiveRefusalKind::malformed, "A header's size is not an octal number.");
        const char typeflag = header[typeflag_offset];
        const uint64_t size = pending.size.value_or(*size_in_header);
        if (size > archive.size() - offset) return refuse(ArchiveRefusalKind::malformed, "The archive is cut short.");
        const std::string_view content = archive.substr(offset, size);
        offset += std::min<uint64_t>(padded(size), archive.size() - offset);

        if (typeflag == 'x' || typeflag == 'g') {
            if (size > 64 * 1024) return refuse(ArchiveRefusalKind::malformed, "A pax header is over 64 KiB.");
            const std::optional<PaxOverrides> read = read_pax(content);
            if (!read) return refuse(ArchiveRefusalKind::malformed, "A pax extended header is malformed.");
            if (typeflag == 'x') pending = *read;  // a global header's path would name no entry
            continue;
        }

        const auto name_part = text_of(field_of(header, name_field));
        const auto prefix_part = text_of(field_of(header, prefix_field));
        std::string name;
        if (pending.path) {
            name = *pending.path;
        } else if (name_part && prefix_part) {
            name = prefix_part->empty() ? std::string(*name_part) : std::string(*prefix_part) + "/" + std::string(*name_part);
        } else {
            return refuse(ArchiveRefusalKind::unsafe_name, "An entry's name has a NUL byte in it.");
        }
        pending = PaxOverrides{};

        const bool regular = typeflag == '0' || typeflag == '\0';
        const bool directory = typeflag == '5';
        if (!regular && !directory) {
            return refuse(ArchiveRefusalKind::unsupported_entry,
                          fmt::format("'{}' is {}: only files and directories can be uploaded.", shown(name),
                                      entry_kind(typeflag)));
        }
        const std::optional<std::string_view> relative = site_relative(name, directory);
        if (!relative) continue;
        std::variant<std::string, PathRefusal> checked = check_upload_name(*relative);
        if (const auto* refusal = std::get_if<PathRefusal>(&checked)) {
            return refuse(ArchiveRefusalKind::unsafe_name,
                          fmt::format("'{}' is not a file's place in a site: {}.", shown(name), describe(*refusal)));
        }
        std::string path = std::move(std::get<std::string>(checked));
        if (directory) {
            directory_names.insert(std::move(path));
            continue;
        }
        if (files.size() + 1 > limits.max_files) {
            return refuse(ArchiveRefusalKind::too_many_files,
                          fmt::format("A site has at most {} files (sites.max_files).", limits.max_files));
        }
        total += size;
        if (total > limits.max_total_bytes) {
            return refuse(ArchiveRefusalKind::too_large,
                          fmt::format("A site's files add up to at most {} bytes (sites.max_total_bytes).",
                                      limits.max_total_bytes));
        }
        if (!file_names.insert(path).second) {
            return refuse(ArchiveRefusalKind::conflicting_names, fmt::format("'{}' is in the archive twice.", shown(path)));
        }
        files.push_back(SiteUploadFile{std::move(path), content});
    }
    if (!ended && !files.empty() && archive.size() % block != 0) {
        return refuse(ArchiveRefusalKind::malformed, "The archive is cut short.");
    }
    if (files.empty()) return refuse(ArchiveRefusalKind::malformed, "The archive holds no file.");
    if (const auto both = file_below_a_file(file_names, directory_names)) {
        return refuse(ArchiveRefusalKind::conflicting_names,
                      fmt::format("'{}' is below a name that is a file, or is a file and a directory.", shown(*both)));
    }
    return files;
}

namespace {

void put_octal(std::string& header, Field field, uint64_t value) {
    const std::string digits = fmt::format("{:0{}o}", value, field.length - 1);
    std::memcpy(header.data() + field.offset, digits.data(), std::min(digits.size(), field.length - 1));
}

std::string header_block(std::string_view name, uint64_t size, char typeflag) {
    std::string header(block, '\0');
    std::memcpy(header.data() + name_field.offset, name.data(), std::min(name.size(), name_field.length));
    put_octal(header, mode_field, 0644);
    put_octal(header, {108, 8}, 0);   // uid
    put_octal(header, {116, 8}, 0);   // gid
    put_octal(header, size_field, size);
    put_octal(header, {136, 12}, 0);  // mtime: the daemon dates a version by its deploy
    header[typeflag_offset] = typeflag;
    std::memcpy(header.data() + magic_field.offset, "ustar", 6);
    std::memcpy(header.data() + version_field.offset, "00", 2);
    std::memset(header.data() + checksum_field.offset, ' ', checksum_field.length);
    uint64_t sum = 0;
    for (const char c : header) sum += static_cast<unsigned char>(c);
    const std::string checksum = fmt::format("{:06o}", sum);
    std::memcpy(header.data() + checksum_field.offset, checksum.data(), 6);
    header[checksum_field.offset + 6] = '\0';
    return header;
}

void append_padded(std::string& out, std::string_view bytes) {
    out += bytes;
    out.append(padded(bytes.size()) - bytes.size(), '\0');
}

// "LENGTH path=NAME\n", where LENGTH counts its own digits.
std::string pax_path_record(std::string_view name) {
    const size_t rest = std::string_view(" path=\n").size() + name.size();
    size_t length = rest + 1;
    while (std::to_string(length).size() + rest != length) ++length;
    return fmt::format("{} path={}\n", length, name);
}

}  // namespace

std::string write_site_archive(const std::vector<std::pair<std::string, std::string>>& files) {
    std::string out;
    for (const auto& [name, content] : files) {
        if (name.size() > name_field.length) {
            const std::string record = pax_path_record(name);
            out += header_block("PaxHeader", record.size(), 'x');
            append_padded(out, record);
        }
        out += header_block(name.size() > name_field.length ? std::string_view(name).substr(0, 99) : name,
                            content.size(), '0');
        append_padded(out, content);
    }
    out.append(2 * block, '\0');
    return out;
}

}  // namespace sofaas
