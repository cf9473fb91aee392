#include "gateway/lambda_zip.h"

#include <zip.h>

#include <memory>

namespace sofaas {
namespace {

struct ArchiveCloser {
    void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct FileCloser {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
};

}  // namespace

std::variant<std::string, ZipError> file_from_zip(std::string_view archive, std::string_view file_name,
                                                  size_t max_bytes) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(archive.data(), archive.size(), 0, &error);
    if (!source) {
        ZipError failure{std::string("the zip cannot be read: ") + zip_error_strerror(&error)};
        zip_error_fini(&error);
        return failure;
    }
    std::unique_ptr<zip_t, ArchiveCloser> zip(zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error));
    if (!zip) {
        zip_source_free(source);
        ZipError failure{std::string("Code.ZipFile is not a zip archive: ") + zip_error_strerror(&error)};
        zip_error_fini(&error);
        return failure;
    }
    zip_error_fini(&error);
    std::string name(file_name);
    if (name.empty()) {
        const zip_int64_t entries = zip_get_num_entries(zip.get(), 0);
        for (zip_int64_t i = 0; i < entries; ++i) {
            const std::string entry = zip_get_name(zip.get(), i, 0);
            if (!entry.ends_with(".so")) continue;
            if (!name.empty()) return ZipError{"the zip holds several .so files (" + name + ", " + entry + "): one, please"};
            name = entry;
        }
        if (name.empty()) return ZipError{"the zip holds no .so file"};
    }
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat(zip.get(), name.c_str(), 0, &stat) != 0) {
        return ZipError{"the zip holds no file " + name + " (the Handler names the .so in the zip)"};
    }
    if (!(stat.valid & ZIP_STAT_SIZE) || stat.size > max_bytes) {
        return ZipError{name + " is larger than " + std::to_string(max_bytes) + " bytes once unpacked"};
    }
    std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen(zip.get(), name.c_str(), 0));
    if (!file) return ZipError{std::string("cannot unpack ") + name + ": " + zip_strerror(zip.get())};
    std::string bytes(stat.size, '\0');
    zip_int64_t read = 0;
    while (read < static_cast<zip_int64_t>(bytes.size())) {
        const zip_int64_t got = zip_fread(file.get(), bytes.data() + read, bytes.size() - read);
        if (got <= 0) return ZipError{std::string("cannot unpack ") + name + ": " + zip_file_strerror(file.get())};
        read += got;
    }
    return bytes;
}

}  // namespace sofaas
