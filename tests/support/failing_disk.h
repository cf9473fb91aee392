// A disk that fails on demand, behind the file layer (common/append_only_file.h): unit
// tests set what the next calls do, then hand `failing_disk` to an AppendOnlyFile or a
// Ledger. Process-wide; clear() it after each test.
#pragma once

#include <atomic>

#include "common/append_only_file.h"

namespace sofaas::testing {

struct DiskFaults {
    std::atomic<int> write_error{0};   // the next writes fail with this errno ...
    std::atomic<long> short_write{0};  // ... after the first of them takes this many bytes
    std::atomic<int> fsync_error{0};
    std::atomic<int> truncate_error{0};

    void clear() {
        write_error = 0;
        short_write = 0;
        fsync_error = 0;
        truncate_error = 0;
    }
};

extern DiskFaults disk_faults;
extern const FileCalls failing_disk;

}  // namespace sofaas::testing
