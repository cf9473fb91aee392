#include "worker/syscall_filter.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <variant>
#include <vector>

namespace sofaas::worker {
namespace {

// Everything not named here is allowed: a function is ordinary user-space code (files,
// sockets, threads, exec) and an allow-list would break libraries in ways that are hard to
// explain. What is named is what no function needs and what an escape or an attack on the
// host would use. Each fails with EPERM, as it would for an unprivileged process: nothing
// is killed, so a function that tries one gets an error it can report.
constexpr const char* denied_syscalls[] = {
    // Reading or steering other processes (and the daemon, if they share a user).
    "ptrace", "process_vm_readv", "process_vm_writev",
    // What the function sees of the file system and the namespaces it lives in: the host
    // decides, not the function. The fs*/move_mount/open_tree calls are the new mount API.
    "mount", "umount", "umount2", "pivot_root", "chroot", "setns", "unshare",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "open_by_handle_at",  // opens any inode on a file system by handle, past directory permissions
    // The kernel itself: code, memory and hardware.
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "bpf", "perf_event_open", "lookup_dcookie",
    "iopl", "ioperm", "quotactl", "acct",
    "userfaultfd",  // stalls kernel accesses to user memory: a classic exploit primitive
    // The kernel keyring is shared by everything running as the same user.
    "keyctl", "add_key", "request_key",
    // Machine-wide settings other processes depend on.
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname",
};

// clone() can create namespaces too, which would sidestep the unshare() rule above. Its
// flags are the first argument on every architecture we build for.
constexpr uint64_t namespace_flags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                        CLONE_NEWUSER, CLONE_NEWPID,   CLONE_NEWNET};

// personality(0xffffffff) only reads the persona. Changing it can turn off address space
// randomisation (ADDR_NO_RANDOMIZE) or make all readable memory executable
// (READ_IMPLIES_EXEC) for the programs a function runs.
constexpr uint64_t personality_query = 0xffffffff;

using Filter = std::unique_ptr<void, decltype(&seccomp_release)>;

std::string failed(const char* what, int result) {
    return std::string("cannot install the seccomp filter: ") + what + ": " +
           std::strerror(-result);
}

// A 64-bit process can still make 32-bit system calls (int 0x80, x32): the filter must
// cover those system call tables too, or every rule could be bypassed through them.
int add_compat_architectures(scmp_filter_ctx filter) {
    if (seccomp_arch_native() != SCMP_ARCH_X86_64) return 0;
    for (const uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32})
        if (const int result = seccomp_arch_add(filter, arch); result != 0 && result != -EEXIST)
            return result;
    return 0;
}

std::optional<std::string> add_rules(scmp_filter_ctx filter) {
    const auto denied = SCMP_ACT_ERRNO(EPERM);
    for (const char* name : denied_syscalls) {
        const int syscall = seccomp_syscall_resolve_name(name);
        if (syscall == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp: nothing to deny
        if (const int result = seccomp_rule_add(filter, denied, syscall, 0); result != 0)
            return failed(name, result);
    }
    for (const uint64_t flag : namespace_flags)
        if (const int result = seccomp_rule_add(filter, denied, SCMP_SYS(clone), 1,
                                                SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
            result != 0)
            return failed("clone", result);
    if (const int result = seccomp_rule_add(filter, denied, SCMP_SYS(personality), 1,
                                            SCMP_A0(SCMP_CMP_NE, personality_query));
        result != 0)
        return failed("personality", result);
    // clone3 passes its flags in memory, which a seccomp filter cannot read. ENOSYS (as on
    // kernels before 5.3) makes glibc fall back to clone(), whose flags are checked above.
    if (const int result = seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        result != 0)
        return failed("clone3", result);
    return std::nullopt;
}

using Program = std::vector<sock_filter>;

// The program as libseccomp would load it, read back through a memfd.
std::variant<Program, std::string> export_program(scmp_filter_ctx filter) {
    const int fd = memfd_create("sofaas-seccomp", MFD_CLOEXEC);
    if (fd < 0) return failed("memfd_create", -errno);
    Program program;
    int result = seccomp_export_bpf(filter, fd);
    const off_t size = result == 0 ? lseek(fd, 0, SEEK_END) : 0;
    if (result == 0 && (size <= 0 || size % sizeof(sock_filter) != 0)) result = -EINVAL;
    if (result == 0) {
        program.resize(static_cast<size_t>(size) / sizeof(sock_filter));
        if (pread(fd, program.data(), static_cast<size_t>(size), 0) != size) result = -EIO;
    }
    close(fd);
    if (result != 0) return failed("seccomp_export_bpf", result);
    return program;
}

std::variant<Program, std::string> compile() {
    Filter filter(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
    if (!filter) return std::string("cannot install the seccomp filter: seccomp_init failed");
    // Report the kernel's own errno (say, EINVAL from a kernel without seccomp filters)
    // instead of libseccomp's generic ECANCELED.
    seccomp_attr_set(filter.get(), SCMP_FLTATR_API_SYSRAWRC, 1);
    if (const int result = add_compat_architectures(filter.get()); result != 0)
        return failed("adding the 32-bit architectures", result);
    // A system call of an architecture the filter does not know fails too, rather than
    // killing the worker (libseccomp's default).
    if (const int result = seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH,
                                            SCMP_ACT_ERRNO(EPERM));
        result != 0)
        return failed("setting the unknown-architecture action", result);
    if (auto error = add_rules(filter.get())) return *error;
    return export_program(filter.get());
}

// One per process: prepared in the zygote before it forks, or by the worker itself.
std::optional<std::variant<Program, std::string>> compiled;

}  // namespace

std::optional<std::string> prepare_syscall_filter() {
    if (!compiled) compiled = compile();
    if (const auto* error = std::get_if<std::string>(&*compiled)) return *error;
    return std::nullopt;
}

std::optional<std::string> install_syscall_filter() {
    if (auto error = prepare_syscall_filter()) return error;
    Program& program = std::get<Program>(*compiled);
    const sock_fprog loaded{static_cast<unsigned short>(program.size()), program.data()};
    // What seccomp_load does with the default attributes: no flags (no TSYNC: the worker
    // is single-threaded when it enters the sandbox).
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &loaded) != 0)
        return failed("seccomp(SECCOMP_SET_MODE_FILTER)", -errno);
    return std::nullopt;
}

}  // namespace sofaas::worker
