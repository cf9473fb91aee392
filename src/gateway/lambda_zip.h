// Code.ZipFile of the Lambda API: the function's .so inside a zip archive, read with libzip.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace sofaas {

struct ZipError {
    std::string message;
};

// The bytes of `file_name` in the zip `archive` (at most `max_bytes` once unpacked), or why
// not. An empty `file_name`: the archive's only .so file.
std::variant<std::string, ZipError> file_from_zip(std::string_view archive, std::string_view file_name,
                                                  size_t max_bytes);

}  // namespace sofaas
