#include "cgroup/cgroup_v1.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "cgroup/control_file.h"

namespace sofaas::cgroup {
namespace {

namespace fs = std::filesystem;

// One cgroup's directory in each hierarchy; controllers mounted together share one.
struct Directories {
    fs::path memory;
    fs::path pids;
    fs::path freezer;
    fs::path cpuacct;
    std::vector<fs::path> distinct;  // each hierarchy once, memory's first
};

Directories directories_of(const Layout& parents, const std::string& name) {
    Directories directories{parents.memory / name, parents.pids / name, parents.freezer / name,
                            parents.cpuacct / name, {}};
    for (const fs::path& directory :
         {directories.memory, directories.pids, directories.freezer, directories.cpuacct}) {
        if (std::find(directories.distinct.begin(), directories.distinct.end(), directory) ==
            directories.distinct.end())
            directories.distinct.push_back(directory);
    }
    return directories;
}

std::optional<std::string> write_limits(const Directories& directories, const Limits& limits) {
    const std::string memory = std::to_string(limits.memory_bytes);
    if (auto error = write_control(directories.memory / "memory.limit_in_bytes", memory)) return error;
    // memory + swap: with swap accounting, set to the same size, swap adds nothing. Without
    // it, swappiness 0 keeps the cgroup's memory out of swap.
    const fs::path memory_and_swap = directories.memory / "memory.memsw.limit_in_bytes";
    if (auto error = fs::exists(memory_and_swap) ? write_control(memory_and_swap, memory)
                                                 : write_control(directories.memory / "memory.swappiness", "0"))
        return error;
    return write_control(directories.pids / "pids.max", std::to_string(limits.max_tasks));
}

class V1Cgroup final : public EnvironmentCgroup {
public:
    explicit V1Cgroup(Directories directories)
        : directories_(std::move(directories)),
          peak_(open_control(directories_.memory / "memory.max_usage_in_bytes", O_RDONLY)),
          oom_control_(open_control(directories_.memory / "memory.oom_control", O_RDONLY)),
          cpu_usage_(open_control(directories_.cpuacct / "cpuacct.usage", O_RDONLY)),
          tasks_(open_control(directories_.pids / "pids.current", O_RDONLY)),
          freezer_state_(open_control(directories_.freezer / "freezer.state", O_WRONLY)) {}

    // What every invocation reads could not be opened.
    bool incomplete() const { return !peak_ || !oom_control_ || !cpu_usage_ || !tasks_ || !freezer_state_; }

    Version version() const override { return Version::v1; }

    std::optional<std::string> limit(const Limits& limits) override { return write_limits(directories_, limits); }

    Placement placement() const override {
        Placement placement;
        for (const fs::path& directory : directories_.distinct) {
            UniqueFd procs = open_control(directory / "cgroup.procs", O_WRONLY);
            if (!procs) return {};
            placement.procs_files.push_back(std::move(procs));
        }
        return placement;
    }

    std::optional<uint64_t> tasks() const override { return read_number(tasks_.get()); }

    std::optional<uint64_t> peak_memory_bytes() const override { return read_number(peak_.get()); }

    std::optional<uint64_t> cpu_ns() const override { return read_number(cpu_usage_.get()); }

    std::optional<uint64_t> oom_kills() const override { return read_keyed_value(oom_control_.get(), "oom_kill"); }

    bool freeze() override { return write_control(freezer_state_.get(), "FROZEN"); }
    bool thaw() override { return write_control(freezer_state_.get(), "THAWED"); }

    // A frozen v1 task acts on a SIGKILL only once thawed.
    void kill() override { thaw(); }

    bool remove() override {
        const fs::path procs = directories_.freezer / "cgroup.procs";
        if (!listed_processes(procs).empty()) {
            // Frozen, none of them can fork while the list is read and killed; thawed, the
            // SIGKILLs land. One that was still running when listed is caught next time.
            freeze();
            for (const pid_t pid : listed_processes(procs)) ::kill(pid, SIGKILL);
            thaw();
        }
        bool removed = true;
        for (const fs::path& directory : directories_.distinct) removed = remove_directory(directory) && removed;
        return removed;
    }

    std::string path() const override { return directories_.memory.string(); }

private:
    Directories directories_;
    UniqueFd peak_;
    UniqueFd oom_control_;
    UniqueFd cpu_usage_;
    UniqueFd tasks_;
    UniqueFd freezer_state_;
};

}  // namespace

std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> open_v1(const Layout& parents, const std::string& name) {
    auto cgroup = std::make_unique<V1Cgroup>(directories_of(parents, name));
    if (cgroup->incomplete()) return "cannot open the accounting files of " + cgroup->path();
    return cgroup;
}

std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> set_up_v1(const Layout& parents, const std::string& name,
                                                                       const Limits& limits) {
    auto cgroup = open_v1(parents, name);
    if (auto* opened = std::get_if<std::unique_ptr<EnvironmentCgroup>>(&cgroup))
        if (auto error = (*opened)->limit(limits)) return std::move(*error);
    return cgroup;
}

std::optional<std::string> make_directories_v1(const Layout& parents, const std::string& name) {
    std::vector<fs::path> created;
    for (const fs::path& directory : directories_of(parents, name).distinct) {
        if (auto error = make_directory(directory)) {
            for (const fs::path& made : created) remove_directory(made);
            return error;
        }
        created.push_back(directory);
    }
    return std::nullopt;
}

void remove_directories_v1(const Layout& parents, const std::string& name) {
    for (const fs::path& directory : directories_of(parents, name).distinct) remove_directory(directory);
}



}  // namespace sofaas::cgroup
