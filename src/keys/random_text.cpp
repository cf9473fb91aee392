#include "keys/random_text.h"

#include <sys/random.h>

#include <cerrno>
#include <system_error>

namespace sofaas {
namespace {

void fill_random(unsigned char* bytes, size_t size) {
    while (size > 0) {
        const ssize_t got = ::getrandom(bytes, size, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "getrandom");
        }
        bytes += got;
        size -= static_cast<size_t>(got);
    }
}

}  // namespace

// Uniform over the alphabet: bytes that would bias it are drawn again.
std::string random_text(std::string_view alphabet, size_t length) {
    const unsigned limit = 256 - 256 % alphabet.size();
    std::string text;
    unsigned char bytes[64];
    while (text.size() < length) {
        fill_random(bytes, sizeof bytes);
        for (unsigned char byte : bytes) {
            if (byte < limit && text.size() < length) text += alphabet[byte % alphabet.size()];
        }
    }
    return text;
}

}  // namespace sofaas
