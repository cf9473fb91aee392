#include "logs/log_retention.h"

#include <algorithm>
#include <fstream>
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/file_io.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

struct DayFile {
    fs::path path;
    std::string date;  // YYYY-MM-DD: sorts as it reads
    uint64_t bytes = 0;
};

std::vector<DayFile> day_files_oldest_first(const fs::path& directory) {
    std::vector<DayFile> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(directory, ec)) {
        std::error_code type_error;
        if (!is_log_day_file(entry.path()) || !entry.is_regular_file(type_error) || entry.is_symlink(type_error)) continue;
        std::error_code size_error;
        const uint64_t bytes = entry.file_size(size_error);
        if (size_error) continue;  // gone meanwhile
        files.push_back({entry.path(), entry.path().stem().string(), bytes});
    }
    std::sort(files.begin(), files.end(), [](const DayFile& a, const DayFile& b) { return a.date < b.date; });
    return files;
}

bool delete_day_file(const DayFile& file, RetentionPass& pass) {
    std::error_code ec;
    fs::remove(file.path, ec);
    if (ec) {
        spdlog::warn("logs: retention cannot delete {}: {}", file.path.string(), ec.message());
        return false;
    }
    ++pass.files_deleted;
    pass.bytes_freed += file.bytes;
    return true;
}

// Keeps the last `keep` bytes of `file`, from the first line that starts in them: written
// to a new file renamed over the old one, so a reader sees one or the other, whole.
bool keep_newest_lines(const DayFile& file, uint64_t keep, RetentionPass& pass) {
    if (file.bytes <= keep) return true;
    // Only the part kept is read: one byte before it says whether it starts on a line.
    const uint64_t from = file.bytes - keep - 1;
    std::string text(keep + 1, '\0');
    std::ifstream in(file.path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(from));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    const size_t newline = text.find('\n');
    const size_t start = newline == std::string::npos ? text.size() : newline + 1;
    try {
        replace_file_atomically(file.path, std::string_view(text).substr(start), 0600);
    } catch (const std::exception& e) {
        spdlog::warn("logs: retention cannot trim {}: {}", file.path.string(), e.what());
        return false;
    }
    ++pass.files_trimmed;
    pass.bytes_freed += file.bytes - (text.size() - start);
    return true;
}

}  // namespace

bool is_log_day_file(const fs::path& file) {
    const std::string stem = file.stem().string();
    return file.extension() == ".jsonl" && stem.size() == 10 && stem[4] == '-' && stem[7] == '-';
}

RetentionPass enforce_log_retention(const fs::path& function_dir, const LogSettings& limits, WallTime now) {
    RetentionPass pass;
    std::vector<DayFile> files = day_files_oldest_first(function_dir);

    // A day-file's lines are at most a day younger than its date: it goes once its date
    // is before the day max_age_days ago.
    const std::string oldest_kept = format_date(now - std::chrono::hours(24) * limits.max_age_days);
    std::erase_if(files, [&](const DayFile& file) { return file.date < oldest_kept && delete_day_file(file, pass); });

    uint64_t total = 0;
    for (const DayFile& file : files) total += file.bytes;
    auto oldest = files.begin();
    while (total > limits.max_bytes_per_function && files.end() - oldest > 1) {
        if (delete_day_file(*oldest, pass)) total -= oldest->bytes;
        ++oldest;
    }
    if (total > limits.max_bytes_per_function && oldest != files.end()) {
        keep_newest_lines(*oldest, limits.max_bytes_per_function / 2, pass);
    }
    return pass;
}

}  // namespace sofaas
