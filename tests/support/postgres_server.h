// A real PostgreSQL server for tests (Debian's, /usr/lib/postgresql/15/bin): its data and
// its unix socket in one directory, no TCP port, run as the postgres user when the test
// is root (the server refuses root). Made from a data directory initialized once per
// machine and copied, so a server costs a copy and a start.
//
// Under ctest every test is a process of its own, so the suite shares one server, which a
// ctest fixture starts first and stops last (postgres_suite_server.cpp, tests/CMakeLists.txt)
// and names in SOFAAS_TEST_POSTGRES_DIR; each test takes a fresh database of it. A test
// binary run by hand starts a server of its own on first use.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace sofaas::testing {

inline const std::filesystem::path postgres_bin_dir = "/usr/lib/postgresql/15/bin";

class PostgresServer {
public:
    // A server of its own in a new temp directory, started; stopped (immediate shutdown:
    // nothing of a test's needs to last) and removed when destroyed. Throws with its log
    // when it cannot start.
    PostgresServer();
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // The server this test process's databases live on: the suite's, or one of its own
    // started on first use. Tests that stop or restart a server make their own instead.
    static PostgresServer& shared();

    // A new empty database: its postgresql:// URL. Dropped when the server object goes.
    std::string create_database();
    // The URL of `database` on this server.
    std::string url(const std::string& database) const;

    // Stops it (fast shutdown: its connections are dropped) and starts it again, as an
    // operator's restart would.
    void restart();
    void stop();
    void start();

    std::string log() const;

    // The suite's server, for the ctest fixture: started in `directory` (made if missing)
    // and left running; stopped and its directory removed.
    static void start_suite_server(const std::filesystem::path& directory);
    static void stop_suite_server(const std::filesystem::path& directory);

private:
    struct Attached {};
    PostgresServer(Attached, std::filesystem::path directory);  // the suite's, already running
    void make_data_directory();

    std::optional<TempDir> owned_dir_;
    std::filesystem::path dir_;
    std::filesystem::path data_;
    bool owns_server_ = false;
    bool running_ = false;
    std::vector<std::string> databases_;
};

}  // namespace sofaas::testing
