// Shared by the fuzz targets: reading structured fields out of the fuzzer's bytes, and
// checking a property (a failed check aborts, which libFuzzer and the replay both report
// as a crash with the input that caused it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sofaas::fuzz {

// The input as text: lines (without their '\n') and whatever follows.
class FuzzInput {
public:
    FuzzInput(const uint8_t* data, size_t size)
        : rest_(reinterpret_cast<const char*>(data), size) {}

    bool empty() const { return rest_.empty(); }

    std::string_view line() {
        const size_t end = rest_.find('\n');
        const std::string_view line = rest_.substr(0, end);
        rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
        return line;
    }

    std::string_view rest() const { return rest_; }

private:
    std::string_view rest_;
};

inline void check(bool property, const char* what) {
    if (property) return;
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
}

}  // namespace sofaas::fuzz
