#include "daemon/admin_token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sofaas {
namespace {

std::string random_hex(size_t bytes) {
    std::string random(bytes, '\0');
    size_t filled = 0;
    while (filled < bytes) {
        const ssize_t n = getrandom(random.data() + filled, bytes - filled, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
        filled += static_cast<size_t>(n);
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char byte : random) {
        hex += digits[byte >> 4];
        hex += digits[byte & 15];
    }
    return hex;
}

std::string read_token_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::string token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) throw std::runtime_error(file.string() + " is empty: delete it to generate a new token");
    return token;
}

// O_EXCL: two daemons starting on one data directory cannot both write a token.
bool create_token_file(const std::filesystem::path& file, const std::string& token) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return false;
    if (fd < 0) throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
    const std::string line = token + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write " + file.string());
    return true;
}

}  // namespace

AdminToken resolve_admin_token(const Config& config) {
    if (!config.admin_token.empty()) return {config.admin_token, "config"};
    if (const char* env = std::getenv("SOFAAS_ADMIN_TOKEN"); env && *env) return {env, "SOFAAS_ADMIN_TOKEN"};

    const std::filesystem::path file = config.data_dir / "admin.token";
    if (!std::filesystem::exists(file)) {
        const std::string token = random_hex(32);
        if (create_token_file(file, token)) return {token, file.string() + " (generated)"};
    }
    return {read_token_file(file), file.string()};
}

}  // namespace sofaas
