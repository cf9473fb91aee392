#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/append_only_file.h"
#include "support/failing_disk.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::file_text;
namespace fs = std::filesystem;

namespace {

using sofaas::testing::disk_faults;
using sofaas::testing::failing_disk;

class AppendOnlyFileTest : public ::testing::Test {
protected:
    void TearDown() override { disk_faults.clear(); }
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
    disk_faults.write_error = ENOSPC;
    EXPECT_EQ(error_of([&] { file.append("second\n"); }), ENOSPC);
    EXPECT_EQ(file_text(path), "first\n");
    disk_faults.write_error = 0;
    file.append("third\n");
    EXPECT_EQ(file_text(path), "first\nthird\n");
}

TEST_F(AppendOnlyFileTest, AShortWriteIsCutBackOffTheFile) {
    AppendOnlyFile file(path, failing_disk);
    file.append("first\n");
    disk_faults.write_error = ENOSPC;
    disk_faults.short_write = 4;  // "seco" reaches the file, then the disk is full
    EXPECT_EQ(error_of([&] { file.append("second\n"); }), ENOSPC);
    EXPECT_EQ(file_text(path), "first\n");
    disk_faults.write_error = 0;
    file.append("third\n");
    EXPECT_EQ(file_text(path), "first\nthird\n");
}

TEST_F(AppendOnlyFileTest, WhenTheCutFailsTooTheNextLineStartsOnALineOfItsOwn) {
    AppendOnlyFile file(path, failing_disk);
    file.append("first\n");
    disk_faults.write_error = EIO;
    disk_faults.short_write = 4;
    disk_faults.truncate_error = EIO;
    EXPECT_EQ(error_of([&] { file.append("second\n"); }), EIO);
    EXPECT_EQ(file_text(path), "first\nseco");
    disk_faults.write_error = 0;
    file.append("third\n");
    EXPECT_EQ(file_text(path), "first\nseco\nthird\n");
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
