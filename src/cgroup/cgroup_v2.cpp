#include "cgroup/cgroup_v2.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "cgroup/control_file.h"

namespace sofaas::cgroup {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> write_limits(const fs::path& directory, const Limits& limits) {
    if (auto error = write_control(directory / "memory.max", std::to_string(limits.memory_bytes))) return error;
    // Without swap accounting there is no file, and no swap to count.
    if (fs::exists(directory / "memory.swap.max"))
        if (auto error = write_control(directory / "memory.swap.max", "0")) return error;
    // An out-of-memory kill takes the whole environment, as when its worker runs out: the
    // invocation fails as Runtime.OutOfMemory and the environment is replaced.
    if (auto error = write_control(directory / "memory.oom.group", "1")) return error;
    return write_control(directory / "pids.max", std::to_string(limits.max_tasks));
}

class V2Cgroup final : public EnvironmentCgroup {
public:
    explicit V2Cgroup(fs::path directory)
        : directory_(std::move(directory)),
          peak_(open_control(directory_ / "memory.peak", O_RDONLY)),
          events_(open_control(directory_ / "memory.events", O_RDONLY)),
          cpu_stat_(open_control(directory_ / "cpu.stat", O_RDONLY)),
          tasks_(open_control(directory_ / "pids.current", O_RDONLY)),
          freeze_(open_control(directory_ / "cgroup.freeze", O_WRONLY)),
          kill_(open_control(directory_ / "cgroup.kill", O_WRONLY)) {}

    // What every invocation reads could not be opened (memory.peak needs Linux 5.19,
    // cgroup.kill 5.14).
    bool incomplete() const { return !peak_ || !events_ || !cpu_stat_ || !tasks_ || !freeze_ || !kill_; }

    Version version() const override { return Version::v2; }

    std::optional<std::string> limit(const Limits& limits) override { return write_limits(directory_, limits); }

    Placement placement() const override {
        Placement placement;
        placement.procs_files.push_back(open_control(directory_ / "cgroup.procs", O_WRONLY));
        placement.directory = UniqueFd(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!placement.procs_files.front() || !placement.directory) return {};
        return placement;
    }

    std::optional<uint64_t> tasks() const override { return read_number(tasks_.get()); }

    std::optional<uint64_t> peak_memory_bytes() const override { return read_number(peak_.get()); }

    std::optional<uint64_t> cpu_ns() const override {
        const auto usec = read_keyed_value(cpu_stat_.get(), "usage_usec");
        if (!usec) return std::nullopt;
        return *usec * 1000;
    }

    std::optional<uint64_t> oom_kills() const override { return read_keyed_value(events_.get(), "oom_kill"); }

    bool freeze() override { return write_control(freeze_.get(), "1"); }
    bool thaw() override { return write_control(freeze_.get(), "0"); }

    // The kernel SIGKILLs every process in it, frozen ones included, and also whatever one
    // of them is forking at that moment.
    void kill() override {
        if (kill_) {
            write_control(kill_.get(), "1");
            return;
        }
        // Not open (a cgroup left by another daemon, read after its files went away).
        freeze();
        for (const pid_t pid : listed_processes(directory_ / "cgroup.procs")) ::kill(pid, SIGKILL);
        thaw();
    }

    bool remove() override {
        if (!listed_processes(directory_ / "cgroup.procs").empty()) kill();
        return remove_directory(directory_);
    }

    std::string path() const override { return directory_.string(); }

private:
    fs::path directory_;
    UniqueFd peak_;
    UniqueFd events_;
    UniqueFd cpu_stat_;
    UniqueFd tasks_;
    UniqueFd freeze_;
    UniqueFd kill_;
};

}  // namespace

std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> open_v2(const fs::path& directory) {
    auto cgroup = std::make_unique<V2Cgroup>(directory);
    if (cgroup->incomplete()) return "cannot open the accounting files of " + directory.string();
    return cgroup;
}

std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> set_up_v2(const fs::path& directory,
                                                                       const Limits& limits) {
    auto cgroup = open_v2(directory);
    if (auto* opened = std::get_if<std::unique_ptr<EnvironmentCgroup>>(&cgroup))
        if (auto error = (*opened)->limit(limits)) return std::move(*error);
    return cgroup;
}



}  // namespace sofaas::cgroup
