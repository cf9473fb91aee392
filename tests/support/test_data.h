// Small helpers the unit tests share: dates and file contents.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace sofaas::testing
