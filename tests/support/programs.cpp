#include "support/programs.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <iostream>
#include <stdexcept>

namespace sofaas::testing {

const std::filesystem::path& programs_dir() {
    static const std::filesystem::path dir = [] {
        const char* chosen = std::getenv("SOFAAS_TEST_PROGRAMS_DIR");
        if (!chosen || !*chosen) return std::filesystem::path(SOFAAS_BIN_DIR);
        const std::filesystem::path path(chosen);
        // A mistyped directory must fail the tests, not let them pass on other programs.
        if (!std::filesystem::exists(path / "sofaasd")) {
            throw std::runtime_error("SOFAAS_TEST_PROGRAMS_DIR=" + path.string() + " holds no sofaasd");
        }
        std::cerr << "testing the programs of " << path.string() << "\n";
        return path;
    }();
    return dir;
}

bool programs_are_sanitized() {
    static const bool sanitized = [] {
        std::ifstream program(programs_dir() / "sofaasd", std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(program)), std::istreambuf_iterator<char>());
        return bytes.find("__asan_init") != std::string::npos;
    }();
    return sanitized;
}

}  // namespace sofaas::testing
