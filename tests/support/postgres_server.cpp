#include "support/postgres_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "store/postgres_connection.h"
#include "support/process.h"

namespace sofaas::testing {

namespace fs = std::filesystem;

namespace {

// The server's user and the database superuser the tests connect as.
constexpr const char* server_user = "postgres";
constexpr const char* database_user = "sofaas";

bool is_root() { return ::geteuid() == 0; }

void give_to_server_user(const fs::path& path) {
    if (!is_root()) return;
    const passwd* user = ::getpwnam(server_user);
    if (!user) throw std::runtime_error("no user postgres: is the postgresql package installed?");
    if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
        throw std::system_error(errno, std::generic_category(), "chown " + path.string());
    }
}

std::vector<std::string> as_server_user(const std::vector<std::string>& command) {
    if (!is_root()) return command;
    std::vector<std::string> wrapped = {"/usr/sbin/runuser", "-u", server_user, "--"};
    wrapped.insert(wrapped.end(), command.begin(), command.end());
    return wrapped;
}

void run_or_throw(const std::vector<std::string>& command, const std::string& what) {
    std::vector<std::string> args(command.begin() + 1, command.end());
    ProcessResult result = run_process(command.front(), args, {}, {}, std::chrono::seconds(60));
    if (result.exit_code != 0) {
        std::ostringstream message;
        message << what << " failed: " << result;
        throw std::runtime_error(message.str());
    }
}

// initdb takes a second or more; its result is the same for every server. Made once per
// machine and user (under a lock, as test processes start in parallel), then copied.
fs::path template_data_dir() {
    const char* base = std::getenv("TMPDIR");
    const fs::path root = base && *base ? base : "/tmp";
    const fs::path ready = root / ("sofaas-postgres-15-template-" + std::to_string(::geteuid()));
    if (fs::exists(ready / "PG_VERSION")) return ready;

    const std::string lock_path = ready.string() + ".lock";
    const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0) throw std::system_error(errno, std::generic_category(), "open " + lock_path);
    ::flock(lock, LOCK_EX);
    try {
        if (!fs::exists(ready / "PG_VERSION")) {
            const fs::path building = ready.string() + ".building";
            fs::remove_all(building);
            fs::create_directory(building);
            fs::permissions(building, fs::perms::owner_all);
            give_to_server_user(building);
            run_or_throw(as_server_user({(postgres_bin_dir / "initdb").string(), "-D", building.string(), "-U",
                                         database_user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
                                         "--no-instructions"}),
                         "initdb");
            fs::rename(building, ready);
        }
    } catch (...) {
        ::close(lock);
        throw;
    }
    ::close(lock);
    return ready;
}

}  // namespace

PostgresServer::PostgresServer() : owned_dir_(std::in_place, "sofaas-pg"), dir_(owned_dir_->path()), data_(dir_ / "data") {
    owns_server_ = true;
    make_data_directory();
    start();
}

PostgresServer::PostgresServer(Attached, fs::path directory)
    : dir_(std::move(directory)), data_(dir_ / "data"), running_(true) {}

PostgresServer::~PostgresServer() {
    try {
        if (owns_server_) {
            if (running_) {
                run_or_throw(as_server_user({(postgres_bin_dir / "pg_ctl").string(), "-D", data_.string(), "-m",
                                             "immediate", "-w", "stop"}),
                             "pg_ctl stop");
            }
        } else if (running_ && !databases_.empty()) {
            // The suite's server outlives this process: its databases go now.
            PostgresConnection admin(url("postgres"));
            for (const std::string& name : databases_) admin.run("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    } catch (const std::exception&) {
        // A destructor must not throw; what is left goes with the server's directory.
    }
}

void PostgresServer::make_data_directory() {
    give_to_server_user(dir_);
    // cp -a keeps the owner and the 0700 mode the server insists on.
    run_or_throw(as_server_user({"/bin/cp", "-a", template_data_dir().string(), data_.string()}),
                 "copying the template data directory");
}

PostgresServer& PostgresServer::shared() {
    // Destroyed at exit, after every test.
    static std::unique_ptr<PostgresServer> server = []() -> std::unique_ptr<PostgresServer> {
        const char* suite = std::getenv("SOFAAS_TEST_POSTGRES_DIR");
        if (suite && *suite && fs::exists(fs::path(suite) / "data" / "postmaster.pid")) {
            return std::unique_ptr<PostgresServer>(new PostgresServer(Attached{}, suite));
        }
        return std::make_unique<PostgresServer>();
    }();
    return *server;
}

void PostgresServer::start_suite_server(const fs::path& directory) {
    stop_suite_server(directory);
    fs::create_directories(directory);
    PostgresServer server(Attached{}, directory);
    server.running_ = false;
    server.make_data_directory();
    server.start();
    server.running_ = false;  // left running for the suite
}

void PostgresServer::stop_suite_server(const fs::path& directory) {
    if (fs::exists(directory / "data" / "postmaster.pid")) {
        run_or_throw(as_server_user({(postgres_bin_dir / "pg_ctl").string(), "-D", (directory / "data").string(),
                                     "-m", "immediate", "-w", "stop"}),
                     "pg_ctl stop");
    }
    fs::remove_all(directory);
}

void PostgresServer::start() {
    // No TCP: the socket lives in dir_, so parallel test processes never compete for a
    // port. Durability is not what these tests are about: fsync off keeps them quick.
    const std::string options = "-c listen_addresses= -c unix_socket_directories=" + dir_.string() +
                                " -p 5432 -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
                                " -c shared_buffers=16MB -c max_connections=200";
    try {
        run_or_throw(as_server_user({(postgres_bin_dir / "pg_ctl").string(), "-D", data_.string(), "-l",
                                     (dir_ / "server.log").string(), "-o", options, "-w", "-t", "30", "start"}),
                     "pg_ctl start");
    } catch (const std::exception& error) {
        throw std::runtime_error(std::string(error.what()) + "\nserver log:\n" + log());
    }
    running_ = true;
}

void PostgresServer::stop() {
    if (!owns_server_) throw std::logic_error("the suite's PostgreSQL server is not a test's to stop");
    run_or_throw(as_server_user({(postgres_bin_dir / "pg_ctl").string(), "-D", data_.string(), "-m", "fast", "-w",
                                 "stop"}),
                 "pg_ctl stop");
    running_ = false;
}

void PostgresServer::restart() {
    stop();
    start();
}

std::string PostgresServer::url(const std::string& database) const {
    return "postgresql:///" + database + "?host=" + dir_.string() + "&port=5432&user=" + database_user;
}

std::string PostgresServer::create_database() {
    // Unique across the processes that share the suite's server.
    const std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(databases_.size() + 1);
    databases_.push_back(name);
    PostgresConnection admin(url("postgres"));
    // A name is an identifier, never a parameter; this one is made of digits here.
    admin.run("CREATE DATABASE " + name + " STRATEGY FILE_COPY");
    return url(name);
}

std::string PostgresServer::log() const {
    std::ifstream in(dir_ / "server.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace sofaas::testing
