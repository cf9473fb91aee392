// What /proc/PID/cmdline and /proc/PID/environ show. An exec'd worker shows the command
// line and environment it was exec'd with; a worker forked by the zygote would show the
// zygote's. PR_SET_MM_MAP (unprivileged, it only moves the bounds the kernel
// reads) points them at the worker's own: ps, the crash-safety tests and a function
// reading /proc/self/environ cannot tell the two kinds of worker apart.
#pragma once

#include <linux/prctl.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sofaas::worker {

class ProcessImage {
public:
    // The layout of this process's memory, and a trial that the kernel accepts it back.
    static std::variant<ProcessImage, std::string> of_this_process();

    // In a forked child: shows `arguments` and `environment` as its own, and makes
    // `environment` what getenv() sees. The strings stay allocated for the process's life.
    std::optional<std::string> present(const std::vector<std::string>& arguments,
                                       const std::vector<std::string>& environment) const;

private:
    explicit ProcessImage(const prctl_mm_map& layout) : layout_(layout) {}
    prctl_mm_map layout_;
};

}  // namespace sofaas::worker
