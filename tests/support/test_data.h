// Small helpers the tests share: dates, file contents, lines of text.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/time.h"

namespace sofaas::testing {

// A wall-clock time in UTC.
inline WallTime utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, int us = 0) {
    using namespace std::chrono;
    return WallTime(sys_days{year{y} / month{m} / day{d}}) + hours(hh) + minutes(mm) + seconds(ss) +
           microseconds(us);
}

// What the file holds; empty when it does not exist.
inline std::string file_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The lines of `text`, without their newlines.
inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) lines.push_back(line);
    return lines;
}

}  // namespace sofaas::testing
