// Where the tests find sofaasd, sofaas and sofaas-worker: this build tree's bin/, unless
// SOFAAS_TEST_PROGRAMS_DIR names another. scripts/test.sh runs the end-to-end tests of the
// plain build against the programs of the sanitizer build that way: the programs are what
// the sanitizers watch, and the test drivers gain nothing from being built twice.
#pragma once

#include <filesystem>

namespace sofaas::testing {

const std::filesystem::path& programs_dir();

// Whether those programs are built with AddressSanitizer (read from sofaasd itself, not
// from how the test was built): some checks mean nothing then (RSS bounds under ASan's
// quarantine, a library LD_PRELOADed ahead of ASan's runtime).
bool programs_are_sanitized();

// Debian's python3, whose packages (boto3, selenium) the tests' scripts use, not whatever
// else PATH finds first.
inline const std::filesystem::path debian_python3 = "/usr/bin/python3";

}  // namespace sofaas::testing
