// The Range header of a GET (RFC 9110 14.2): one range of bytes is served (206); several
// are answered with the whole file (200), which the RFC allows and which spares building
// multipart bodies; a range that lies wholly past the end is 416.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

namespace sofaas {

struct ByteRange {
    uint64_t first = 0;
    uint64_t last = 0;  // inclusive, < the file's size
    uint64_t length() const { return last - first + 1; }
};
struct WholeFile {};         // no Range, one not in bytes, several ranges, or unreadable
struct UnsatisfiableRange {};  // 416 with Content-Range: bytes */SIZE

using RangeRequest = std::variant<WholeFile, ByteRange, UnsatisfiableRange>;

// "bytes=0-99", "bytes=100-", "bytes=-500" against a file of `size` bytes. An unreadable
// header is ignored, as RFC 9110 says a server may.
RangeRequest parse_range(std::string_view header, uint64_t size);

}  // namespace sofaas
