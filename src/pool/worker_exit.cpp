#include "pool/worker_exit.h"

#include <sys/wait.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "worker/protocol.h"

namespace sofaas {

std::string describe_signal(int signal_number) {
    const char* description = ::sigdescr_np(signal_number);
    const char* abbreviation = ::sigabbrev_np(signal_number);
    if (description == nullptr || abbreviation == nullptr) {
        return "signal " + std::to_string(signal_number);
    }
    std::string text = description;
    if (!text.empty()) {
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    }
    return text + " (SIG" + abbreviation + ")";
}

uint32_t kb_to_mb_rounded_up(uint64_t kb) {
    return static_cast<uint32_t>((kb + 1023) / 1024);
}

uint64_t peak_rss_kb(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::strtoull(line.c_str() + 6, nullptr, 10);  // "VmHWM:   1234 kB"
        }
    }
    return 0;
}

ExitDiagnosis out_of_memory(uint32_t memory_mb) {
    return {InvocationStatus::oom, "Runtime.OutOfMemory",
            "Runtime exited with error: out of memory (memory_mb " + std::to_string(memory_mb) + ")"};
}

ExitDiagnosis diagnose_exit(const WorkerExit& exit, uint32_t memory_mb, std::optional<uint64_t> oom_kills) {
    const bool allocation_failed =
        WIFEXITED(exit.wait_status) && WEXITSTATUS(exit.wait_status) == protocol::exit_out_of_memory;
    // A C function whose malloc failed usually dies of the NULL it got: its peak RSS near
    // the limit says why. Under AddressSanitizer the shadow memory alone comes near it, so
    // there only the worker's own out-of-memory exit counts.
#if defined(__SANITIZE_ADDRESS__)
    const bool near_limit = false;
#else
    const bool near_limit =
        memory_mb > 0 && static_cast<double>(exit.max_rss_kb) >= 0.9 * memory_mb * 1024.0;
#endif
    const bool killed_at_the_limit = oom_kills ? *oom_kills > 0 : near_limit;
    if (allocation_failed || killed_at_the_limit) {
        return out_of_memory(memory_mb);
    }
    if (WIFSIGNALED(exit.wait_status)) {
        return {InvocationStatus::crash, "Runtime.ExitError",
                "Runtime exited with error: signal: " + describe_signal(WTERMSIG(exit.wait_status))};
    }
    const int status = WIFEXITED(exit.wait_status) ? WEXITSTATUS(exit.wait_status) : -1;
    if (status == 0) {
        return {InvocationStatus::crash, "Runtime.ExitError", "Runtime exited without providing a reason"};
    }
    return {InvocationStatus::crash, "Runtime.ExitError",
            "Runtime exited with error: exit status " + std::to_string(status)};
}

}  // namespace sofaas
