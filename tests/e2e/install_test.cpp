// Installed as a function author installs it: `cmake --install` into a scratch prefix, a
// C++ function built out of tree with find_package(sofaas), a C function built with
// pkg-config, and the installed sofaasd (finding the installed worker) and CLI deploying
// and invoking both.
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace sofaas::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string project_version = SOFAAS_PROJECT_VERSION;

std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

void write_file(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

ProcessResult shell(const std::string& command, const std::vector<std::pair<std::string, std::string>>& env = {}) {
    return run_process("/bin/sh", {"-c", command}, env, {}, 120s);
}

// The names a library exports (defined, dynamic symbol table), one a line.
std::string exported_symbols(const fs::path& library) {
    auto result = shell("nm -D --defined-only --format=just-symbols '" + library.string() + "'");
    EXPECT_EQ(result.exit_code, 0) << result;
    return result.out;
}

const char* const cxx_function = R"(#include <sofaas/sofaas.hpp>

#include <string>

// Not an ABI symbol: sofaas_add_function's hidden visibility keeps it out of the exports.
int out_of_tree_helper(int x) { return x + 1; }

static std::string greeting;

static sofaas::InitResult init(const sofaas::InitContext& context) {
    greeting = "out of tree, " + std::string(context.function_name()) + ": ";
    return sofaas::InitResult::ok();
}

static sofaas::Response handle(const sofaas::Request& request) {
    return sofaas::Response::success(greeting + std::string(request.payload()) + " " +
                                     std::to_string(out_of_tree_helper(41)));
}

SOFAAS_INIT(init)
SOFAAS_HANDLER(handle)
)";

const char* const cxx_project = R"(cmake_minimum_required(VERSION 3.25)
project(greet LANGUAGES CXX)
find_package(sofaas @VERSION@ CONFIG REQUIRED)
sofaas_add_function(greet SOURCES greet.cpp)
)";

const char* const c_function = R"(#include <sofaas/sofaas.h>

#include <ctype.h>
#include <stdlib.h>

SOFAAS_DECLARE_ABI()

__attribute__((visibility("default")))
int sofaas_handler(const sofaas_context* ctx, const uint8_t* event, size_t len) {
    char* upper = malloc(len + 1);
    if (upper == NULL) return SOFAAS_ERROR;
    for (size_t i = 0; i < len; ++i) upper[i] = (char)toupper(event[i]);
    ctx->host->respond(ctx, upper, len);
    free(upper);
    return SOFAAS_OK;
}
)";

class InstalledTree : public ::testing::Test {
protected:
    void SetUp() override {
        auto installed = run_process(SOFAAS_CMAKE_COMMAND, {"--install", SOFAAS_BUILD_DIR, "--prefix", prefix_.string()},
                                     {}, {}, 120s);
        ASSERT_EQ(installed.exit_code, 0) << installed;
    }

    TempDir scratch_{"sofaas-install-test"};
    fs::path prefix_ = scratch_ / "prefix";
};

TEST_F(InstalledTree, HoldsTheProgramsHeadersPackageFilesConfigAndUnit) {
    for (const char* file : {"sbin/sofaasd", "bin/sofaas", "libexec/sofaas/sofaas-worker"})
        EXPECT_EQ(::access((prefix_ / file).c_str(), X_OK), 0) << file << " is not an executable";
    for (const char* file : {"include/sofaas/sofaas.h", "include/sofaas/sofaas.hpp",
                             "share/cmake/sofaas/sofaasConfig.cmake", "share/cmake/sofaas/sofaasConfigVersion.cmake",
                             "share/cmake/sofaas/sofaasFunctions.cmake", "share/pkgconfig/sofaas.pc",
                             "share/doc/sofaas/CHANGELOG.md", "share/sofaas/ui/index.html",
                             "share/sofaas/ui/vendor/uPlot.iife.min.js", "share/sofaas/ui/vendor/uPlot.LICENSE.txt"})
        EXPECT_TRUE(fs::is_regular_file(prefix_ / file)) << file;

    // The default configuration keeps its data in the state directory, not in ./data.
    const auto config = nlohmann::json::parse(read_file(prefix_ / "etc/sofaas/sofaasd.json"));
    EXPECT_TRUE(config["data_dir"].get<std::string>().ends_with("/var/lib/sofaas")) << config.dump();
    EXPECT_EQ(config["listen"], "127.0.0.1:8080");

    const std::string unit = read_file(prefix_ / "lib/systemd/system/sofaasd.service");
    EXPECT_NE(unit.find("ExecStart=" SOFAAS_INSTALL_FULL_SBINDIR "/sofaasd --config "), std::string::npos) << unit;
    for (const char* line : {"Delegate=yes", "StateDirectory=sofaas", "Restart=on-failure", "ProtectSystem=strict"})
        EXPECT_NE(unit.find(std::string("\n") + line + "\n"), std::string::npos) << line << " missing from\n" << unit;
}

TEST_F(InstalledTree, ProgramsPrintTheProjectVersion) {
    auto daemon = run_process(prefix_ / "sbin/sofaasd", {"--version"});
    ASSERT_EQ(daemon.exit_code, 0) << daemon;
    EXPECT_TRUE(daemon.out.starts_with("sofaasd " + project_version + " (commit ")) << daemon.out;
    auto cli = run_process(prefix_ / "bin/sofaas", {"--version"});
    ASSERT_EQ(cli.exit_code, 0) << cli;
    EXPECT_TRUE(cli.out.starts_with("sofaas " + project_version + " (commit ")) << cli.out;
    // The same commit in both.
    EXPECT_EQ(daemon.out.substr(daemon.out.find("(commit")), cli.out.substr(cli.out.find("(commit")));
}

TEST_F(InstalledTree, BuildsDeploysAndInvokesFunctionsOutOfTree) {
    // C++, with the CMake package.
    const fs::path cxx_source = scratch_ / "greet";
    std::string project = cxx_project;
    project.replace(project.find("@VERSION@"), 9, project_version);
    write_file(cxx_source / "CMakeLists.txt", project);
    write_file(cxx_source / "greet.cpp", cxx_function);
    const fs::path cxx_build = scratch_ / "greet-build";
    auto configured = run_process(SOFAAS_CMAKE_COMMAND,
                                  {"-S", cxx_source.string(), "-B", cxx_build.string(), "-DCMAKE_BUILD_TYPE=Release",
                                   "-DCMAKE_PREFIX_PATH=" + prefix_.string()},
                                  {}, {}, 120s);
    ASSERT_EQ(configured.exit_code, 0) << configured;
    auto built = run_process(SOFAAS_CMAKE_COMMAND, {"--build", cxx_build.string()}, {}, {}, 120s);
    ASSERT_EQ(built.exit_code, 0) << built;
    const fs::path greet = cxx_build / "greet.so";
    ASSERT_TRUE(fs::is_regular_file(greet));
    const std::string exports = exported_symbols(greet);
    EXPECT_NE(exports.find("sofaas_handler\n"), std::string::npos) << exports;
    EXPECT_NE(exports.find("sofaas_init\n"), std::string::npos) << exports;
    EXPECT_NE(exports.find("sofaas_abi_version\n"), std::string::npos) << exports;
    EXPECT_EQ(exports.find("out_of_tree_helper"), std::string::npos) << exports;

    // C, with pkg-config.
    const std::vector<std::pair<std::string, std::string>> pkg_config_path = {
        {"PKG_CONFIG_PATH", (prefix_ / "share/pkgconfig").string()}};
    auto version = shell("pkg-config --modversion sofaas", pkg_config_path);
    ASSERT_EQ(version.exit_code, 0) << version;
    EXPECT_EQ(version.out, project_version + "\n");
    write_file(scratch_ / "shout.c", c_function);
    const fs::path shout = scratch_ / "shout.so";
    auto compiled = shell("cc -std=c11 -Wall -Werror -shared -fPIC -fvisibility=hidden $(pkg-config --cflags sofaas) '" +
                              (scratch_ / "shout.c").string() + "' -o '" + shout.string() + "'",
                          pkg_config_path);
    ASSERT_EQ(compiled.exit_code, 0) << compiled;

    // The installed daemon with the installed configuration (its listen address and data
    // directory overridden, as the tests do), and the installed CLI.
    DaemonProcess daemon(nlohmann::json::parse(read_file(prefix_ / "etc/sofaas/sofaasd.json")));
    daemon.use_programs(prefix_ / "sbin/sofaasd", prefix_ / "bin/sofaas");
    daemon.start();
    auto deployed = daemon.deploy("greet", greet);
    ASSERT_EQ(deployed.exit_code, 0) << deployed << daemon.log();
    EXPECT_EQ(deployed.out, "greet version 1\n");
    deployed = daemon.deploy("shout", shout);
    ASSERT_EQ(deployed.exit_code, 0) << deployed << daemon.log();

    // The dashboard's files are the installed ones, found relative to sbin/sofaasd.
    const HttpResponse dashboard = daemon.http("").request("GET", "/ui/");
    EXPECT_EQ(dashboard.status, 200) << dashboard.body;
    EXPECT_NE(dashboard.body.find("<title>sofaas dashboard</title>"), std::string::npos);

    auto greeted = daemon.cli({"invoke", "greet", "--data", "hello"});
    ASSERT_EQ(greeted.exit_code, 0) << greeted << daemon.log();
    EXPECT_EQ(greeted.out, "out of tree, greet: hello 42");
    auto shouted = daemon.cli({"invoke", "shout", "--data", "quiet please"});
    ASSERT_EQ(shouted.exit_code, 0) << shouted << daemon.log();
    EXPECT_EQ(shouted.out, "QUIET PLEASE");

    // The workers are the installed sofaas-worker's, not the build tree's.
    const std::string installed_worker = (prefix_ / "libexec/sofaas/sofaas-worker").string();
    const auto workers = worker_processes(daemon);
    bool found_installed = false;
    for (const auto& process : all_processes())
        if (process.comm == "sofaas-worker" && process.cmdline.starts_with(installed_worker + " "))
            found_installed = true;
    EXPECT_TRUE(found_installed) << "no process of " << installed_worker;
    for (const auto& worker : workers)
        EXPECT_EQ(worker.cmdline.find(SOFAAS_BIN_DIR), std::string::npos) << worker.cmdline;
    daemon.stop();
}

}  // namespace
}  // namespace sofaas::testing
