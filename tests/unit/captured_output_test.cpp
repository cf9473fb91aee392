// The capture behind a worker's stdout/stderr (pool/captured_output.h): bounded whatever
// the function writes, emptied and its memory released by every drain.
#include "pool/captured_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace sofaas {
namespace {

// The worker's fd 1: the same open file description as the daemon's, so the same offset.
UniqueFd worker_end(const UniqueFd& capture) {
    return UniqueFd(::dup(capture.get()));
}

// Writes `total` bytes of 'x' as the function would, in 4 KiB writes; returns what the
// file took, and the errno of the first failed write (0 when none failed).
std::pair<size_t, int> flood(int fd, size_t total) {
    const std::string chunk(4096, 'x');
    size_t taken = 0;
    for (size_t offered = 0; offered < total; offered += chunk.size()) {
        const ssize_t n = ::write(fd, chunk.data(), std::min(chunk.size(), total - offered));
        if (n < 0) return {taken, errno};
        taken += static_cast<size_t>(n);
    }
    return {taken, 0};
}

blkcnt_t allocated_blocks(const UniqueFd& fd) {
    struct stat info {};
    ::fstat(fd.get(), &info);
    return info.st_blocks;
}

TEST(CapturedOutput, WhatWasWrittenIsReadOnceAndInOrder) {
    UniqueFd capture = create_capture("test-stdout");
    ASSERT_TRUE(capture) << std::strerror(errno);
    UniqueFd stdout_fd = worker_end(capture);
    ASSERT_EQ(::write(stdout_fd.get(), "one\n", 4), 4);
    ASSERT_EQ(::write(stdout_fd.get(), "two\n", 4), 4);
    EXPECT_EQ(drain_capture(capture.get(), capture_capacity_bytes), "one\ntwo\n");
    EXPECT_EQ(drain_capture(capture.get(), capture_capacity_bytes), "");
    ASSERT_EQ(::write(stdout_fd.get(), "three\n", 6), 6);
    EXPECT_EQ(drain_capture(capture.get(), capture_capacity_bytes), "three\n") << "the next invocation starts at 0";
}

TEST(CapturedOutput, WritesPastTheCapacityFailAndTheLogSaysWhereItWasCut) {
    UniqueFd capture = create_capture("test-stdout");
    ASSERT_TRUE(capture);
    UniqueFd stdout_fd = worker_end(capture);
    const auto [taken, error] = flood(stdout_fd.get(), 8 * capture_capacity_bytes);
    const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    EXPECT_EQ(taken, capture_capacity_bytes + page) << "the capacity and the page that tells a cut";
    EXPECT_EQ(error, EPERM);
    EXPECT_LE(static_cast<size_t>(allocated_blocks(capture)) * 512, capture_capacity_bytes + page);

    const std::string text = drain_capture(capture.get(), capture_capacity_bytes);
    EXPECT_EQ(text.substr(0, capture_capacity_bytes), std::string(capture_capacity_bytes, 'x'));
    EXPECT_EQ(text.substr(capture_capacity_bytes),
              "\n[sofaas: output cut at " + std::to_string(capture_capacity_bytes) + " bytes per invocation]\n");
    EXPECT_EQ(allocated_blocks(capture), 0) << "the drain did not release the capture's memory";

    ASSERT_EQ(::write(stdout_fd.get(), "after\n", 6), 6) << "writes fail only until the drain";
    EXPECT_EQ(drain_capture(capture.get(), capture_capacity_bytes), "after\n");
}

TEST(CapturedOutput, ExactlyTheCapacityIsNotCutButOneByteMoreIs) {
    UniqueFd capture = create_capture("test-stdout");
    ASSERT_TRUE(capture);
    UniqueFd stdout_fd = worker_end(capture);
    ASSERT_EQ(flood(stdout_fd.get(), capture_capacity_bytes).first, capture_capacity_bytes);
    EXPECT_EQ(drain_capture(capture.get(), capture_capacity_bytes), std::string(capture_capacity_bytes, 'x'));

    ASSERT_EQ(flood(stdout_fd.get(), capture_capacity_bytes - 3).first, capture_capacity_bytes - 3);
    ASSERT_EQ(::write(stdout_fd.get(), "abcd", 4), 4);
    const std::string text = drain_capture(capture.get(), capture_capacity_bytes);
    EXPECT_EQ(text.substr(capture_capacity_bytes - 3, 4), "abc\n");
    EXPECT_NE(text.find("[sofaas: output cut at"), std::string::npos);
}

TEST(CapturedOutput, AFunctionCannotGrowOrUnsealIt) {
    UniqueFd capture = create_capture("test-stdout");
    ASSERT_TRUE(capture);
    UniqueFd stdout_fd = worker_end(capture);
    EXPECT_NE(::ftruncate(stdout_fd.get(), 64 * 1024 * 1024), 0);
    EXPECT_NE(::fcntl(stdout_fd.get(), F_ADD_SEALS, F_SEAL_WRITE), 0);
    ASSERT_EQ(::lseek(stdout_fd.get(), 1024 * 1024, SEEK_SET), 1024 * 1024);
    EXPECT_LT(::write(stdout_fd.get(), "far\n", 4), 0) << "a write past the end must fail";
    // Whatever the offset says, no more than the capacity is read.
    EXPECT_LE(drain_capture(capture.get(), capture_capacity_bytes).size(), capture_capacity_bytes + 64);
}

}  // namespace
}  // namespace sofaas
