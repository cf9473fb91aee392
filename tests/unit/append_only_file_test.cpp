#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/append_only_file.h"
#include "support/temp_dir.h"

using namespace sofaas;
namespace fs = std::filesystem;

namespace {

// A disk that fails on demand: the next write takes `short_write` bytes (if any) and then
// fails with `write_error`; ftruncate fails with `truncate_error`.
std::atomic<int> write_error{0};
std::atomic<long> short_write{0};
std::atomic<int> truncate_error{0};

ssize_t failing_write(int fd, const void* bytes, size_t size) {
    if (const int error = write_error.load()) {
        if (const long part = short_write.exchange(0); part > 0) {
            return ::write(fd, bytes, std::min(size, static_cast<size_t>(part)));
        }
        errno = error;
        return -1;
    }
    return ::write(fd, bytes, size);
}

int failing_ftruncate(int fd, off_t length) {
    if (const int error = truncate_error.load()) {
        errno = error;
        return -1;
    }
    return ::ftruncate(fd, length);
}

const FileCalls failing_disk{failing_write, ::fdatasync, failing_ftruncate};

std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

class AppendOnlyFileTest : public ::testing::Test {
protected:
    void TearDown() override {
        write_error = 0;
        short_write = 0;
        truncate_error = 0;
    }
    sofaas::testing::TempDir temp{"sofaas-append"};
    fs::path path = temp / "2026-11-27.jsonl";
};

int error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::system_error& e) {
        return e.code().value();
    }
    return 0;
}

}  // namespace

TEST_F(AppendOnlyFileTest, AFailedWriteThrowsAndLeavesTheFileAsItWas) {
    AppendOnlyFile file(path, failing_disk);
    file.append("first\n");
    write_error = ENOSPC;
    EXPECT_EQ(error_of([&] { file.append("second\n"); }), ENOSPC);
    EXPECT_EQ(read(path), "first\n");
    write_error = 0;
    file.append("third\n");
    EXPECT_EQ(read(path), "first\nthird\n");
}

TEST_F(AppendOnlyFileTest, AShortWriteIsCutBackOffTheFile) {
    AppendOnlyFile file(path, failing_disk);
    file.append("first\n");
    write_error = ENOSPC;
    short_write = 4;  // "seco" reaches the file, then the disk is full
    EXPECT_EQ(error_of([&] { file.append("second\n"); }), ENOSPC);
    EXPECT_EQ(read(path), "first\n");
    write_error = 0;
    file.append("third\n");
    EXPECT_EQ(read(path), "first\nthird\n");
}

TEST_F(AppendOnlyFileTest, WhenTheCutFailsTooTheNextLineStartsOnALineOfItsOwn) {
    AppendOnlyFile file(path, failing_disk);
    file.append("first\n");
    write_error = EIO;
    short_write = 4;
    truncate_error = EIO;
    EXPECT_EQ(error_of([&] { file.append("second\n"); }), EIO);
    EXPECT_EQ(read(path), "first\nseco");
    write_error = 0;
    file.append("third\n");
    EXPECT_EQ(read(path), "first\nseco\nthird\n");
}

TEST_F(AppendOnlyFileTest, KnowsWhenItsPathNamesAnotherFileOrNone) {
    AppendOnlyFile file(path);
    file.append("first\n");
    EXPECT_TRUE(file.still_at_path());
    fs::rename(path, temp / "2026-11-27.jsonl.1");  // logrotate
    EXPECT_FALSE(file.still_at_path());
    std::ofstream(path) << "another file\n";
    EXPECT_FALSE(file.still_at_path());

    AppendOnlyFile second(temp / "2026-11-28.jsonl");
    fs::remove(temp / "2026-11-28.jsonl");  // rm
    EXPECT_FALSE(second.still_at_path());
}
