#include "pool/captured_output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sofaas {

std::string drain_capture(int memfd, size_t max_bytes) {
    struct stat info {};
    if (::fstat(memfd, &info) != 0 || info.st_size <= 0) {
        return {};
    }
    const size_t written = static_cast<size_t>(info.st_size);
    std::string text(std::min(written, max_bytes), '\0');
    size_t have = 0;
    while (have < text.size()) {
        ssize_t n = ::pread(memfd, text.data() + have, text.size() - have, static_cast<off_t>(have));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        have += static_cast<size_t>(n);
    }
    text.resize(have);
    if (written > have) {
        if (!text.empty() && text.back() != '\n') {
            text += '\n';
        }
        text += "[sofaas: " + std::to_string(written - have) + " more bytes of output were cut]\n";
    }
    // The worker appends (O_APPEND), so after this its next write starts at offset 0.
    (void)::ftruncate(memfd, 0);
    return text;
}

}  // namespace sofaas
