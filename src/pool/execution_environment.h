// One execution environment: one sofaas-worker process, the daemon side of its protocol
// socket, its capture memfds, its deadline and, with cgroups, its cgroup. Everything it
// does runs on its io_context, which one thread runs (the daemon's contract for every
// io_context: no strands needed), so a Result, a deadline expiry and the worker's death
// never race each other.
//
// With a cgroup, nothing of the function runs between events unmeasured. An environment
// found holding more than its worker when it answers (a thread or a process the function
// left running) is restless: frozen once idle for freeze_delay, as Lambda freezes it, and
// thawed when the next event is handed to it. One that holds only its worker may still run
// code of the function's in the worker's own thread: a signal handler, or the handler
// itself after sending a Result of its own (function code shares the worker's socket).
// So first_idle_look after every answer the pool reads its CPU time (then every 100 ms
// for a second while it stays idle): more than its events since the
// last such check can have used (their wall time, one thread, plus answer_cpu_allowance
// after each answer, Ready included) means something ran while it was idle, and it is
// restless from then on. The pool's idle watch (watch_idle, each second) catches what
// starts later. Freezing waits freeze_delay, and the looks spare environments that never
// run while idle the freeze and thaw, because those cost some 10 us of CPU each time; a
// look costs one read. What runs meanwhile is measured (InvocationReport::cpu_ms).
//
// Each read of a cgroup file costs 1.5-3 us on a 2-core VM, as much as a tenth of a warm
// invocation, so what is read depends on what can have changed:
//   - everything (peak memory, CPU time, OOM kills, tasks) for an environment's first
//     thorough_results events, for every event of a restless one, at a deadline, at the
//     worker's exit and at each idle watch;
//   - the peak memory and the CPU time after any other event whose handler ran for a
//     millisecond or more (the reads cost it under 0.5%), and the OOM kills too when the
//     peak came within oom_margin_bytes of the limit, the only place the kernel kills;
//   - nothing after a shorter one, which reports the last reading (or the worker's own
//     peak, if larger) and no CPU time: its CPU time goes to the next reading.
// An OOM kill that leaves the worker alive (a child's, under cgroup v1; v2 kills the
// whole environment) is found at the next reading or idle watch; the environment is then
// replaced.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cgroup/environment_cgroups.h"
#include "common/unique_fd.h"
#include "pool/pool.h"
#include "pool/worker_exit.h"
#include "worker/protocol.h"

namespace sofaas {

struct WorkerProcess;
class WorkerLauncher;

// One event as its function receives it: the bytes and who asked for them (the context's
// caller). Shared, so that a caller can rerun it elsewhere when nothing ran.
struct EventToRun {
    std::string payload;
    Principal caller;
};

// The outcome of a cold start: the worker's Ready frame, or why there was none.
struct Startup {
    bool ok = false;
    double init_ms = 0;  // on the daemon's clock, to Ready or to the failure: billed either way
    InvocationStatus failure = InvocationStatus::crash;  // timeout when init ran out of time
    std::string error_type;
    std::string error_message;
    // The worker failed before its sandbox was in place, so before any function code ran:
    // not the library's fault. Decided by the environment from the frames' order.
    bool host_fault = false;
    std::string captured_stdout;  // what init wrote, on failure (on success the first
    std::string captured_stderr;  // invocation reports it)
};

class ExecutionEnvironment : public std::enable_shared_from_this<ExecutionEnvironment> {
public:
    using Ptr = std::shared_ptr<ExecutionEnvironment>;
    // Runs once, on the environment's io_context, after the process has been reaped.
    using ExitObserver = std::function<void(const ExecutionEnvironment&)>;
    // What the pool observed of the event, or nullopt when the environment was already dead and nothing ran.
    using ExecutionDone = std::function<void(std::optional<InvocationReport>)>;

    struct Settings {
        std::chrono::milliseconds init_timeout;
        size_t max_log_bytes;
    };

    // How long an idle environment with a cgroup runs before it is frozen or checked: the
    // most CPU time an event can buy after its (maybe forged) answer.
    static constexpr std::chrono::microseconds freeze_delay{1000};
    // When an environment not yet known to compute while idle is first looked at after an
    // answer: the most a function computes unbilled before it is frozen after every event,
    // once in its environment's life. Later than freeze_delay because environments of
    // busy functions then take their next event before the look, which costs a cgroup read
    // (some 2 us): at 1 ms, 32 warm environments of hello at 30k calls/s lost 5% of them.
    static constexpr std::chrono::microseconds first_idle_look{10'000};
    // The CPU time a worker may use after sending its Ready or Result (finishing the write,
    // going back to wait for the next event: some 50-100 us, up to 0.7 ms seen on a busy
    // host), whenever it gets a CPU for it, before the rest counts as the function's.
    static constexpr std::chrono::microseconds answer_cpu_allowance{1000};
    // The same after Ready, once per environment: a worker's first return to waiting
    // touches code and memory for the first time (several ms under AddressSanitizer). Also
    // the most allowance carried from one look to the next.
    static constexpr std::chrono::microseconds ready_cpu_allowance{10'000};
    // How often the pool watches idle environments (its reaping timer runs at this period),
    // and how often an environment is looked at in the first second after an answer.
    static constexpr std::chrono::microseconds idle_watch_interval{1'000'000};
    static constexpr std::chrono::microseconds idle_check_step{100'000};
    // Most functions start their threads in init or in their first event.
    static constexpr uint32_t thorough_results = 3;
    // Events shorter than this read nothing from the cgroup.
    static constexpr std::chrono::microseconds unread_below{1000};
    // The largest charge that can fail short of the limit: a transparent huge page, twice.
    static constexpr uint64_t oom_margin_bytes = 4u << 20;

    // Starts the worker; on failure returns the reason.
    static std::variant<Ptr, std::string> spawn(boost::asio::io_context& io, WorkerLauncher& launcher,
                                                Settings settings, FunctionVersionPtr version,
                                                ExitObserver on_exit);
    ExecutionEnvironment(boost::asio::io_context& io, WorkerProcess process, Settings settings,
                         FunctionVersionPtr version, ExitObserver on_exit);
    ~ExecutionEnvironment();
    ExecutionEnvironment(const ExecutionEnvironment&) = delete;
    ExecutionEnvironment& operator=(const ExecutionEnvironment&) = delete;

    // Waits for the Ready frame, at most settings.init_timeout. Call once, first.
    void start(std::function<void(Startup)> done);
    // Runs one event under the version's deadline. Afterwards reusable() tells whether
    // the environment can take the next one.
    void invoke(std::string request_id, std::shared_ptr<const EventToRun> event, ExecutionDone done);
    // SIGKILL now; the process is reaped asynchronously.
    void kill();
    // SIGKILL and reap before returning (daemon shutdown, when io threads may be gone).
    void kill_and_wait();
    // While idle and not frozen: if anything of the function's ran since the last Result,
    // freeze the environment now and whenever it is idle from now on. Thread-safe.
    void watch_idle();
    // A frozen environment is thawed (and frozen again after freeze_delay), so that a
    // SIGKILL sent to one of its processes lands: cgroup v1 holds it while frozen.
    // Thread-safe.
    void let_signals_land();

    bool reusable() const { return phase_ == Phase::idle; }
    pid_t pid() const { return pid_; }
    std::optional<uid_t> own_uid() const { return own_uid_; }
    const FunctionVersionPtr& version() const { return version_; }
    const boost::asio::io_context& context() const { return executor_.context(); }  // where it lives

private:
    enum class Phase { starting, idle, running, dead };

    void read_next_frame();
    void on_frame(protocol::FrameType type);
    void on_ready(const protocol::Ready& ready);
    void on_result(protocol::Result result);
    void on_timer(uint64_t sequence);
    void on_connection_lost();
    void on_protocol_violation(std::string reason);
    void die();
    void kill_process_group();
    void await_exit();
    void on_process_exit();
    bool reap_locked(bool block);  // exit_mutex_ held; false while still running

    void arm_timer(std::chrono::steady_clock::duration after);
    InvocationReport with_captures(InvocationReport report);
    double elapsed_ms() const;
    // With a cgroup: what the environment used, into `report` (see above); a thorough
    // look also finds a restless environment. Returns the cgroup's count of out-of-memory
    // kills (0 when not read), nullopt without a cgroup or an answer.
    enum class Look { none, quick, thorough };
    std::optional<uint64_t> account(InvocationReport& report, Look look);
    Look look_at_result(double duration_ms) const;
    // The environment has nothing to do: with a cgroup, freeze it after freeze_delay if it
    // is restless, else look at it after first_idle_look.
    void rest();
    // Whether the cgroup, now at `cpu_ns`, used more CPU time since the last look (one after
    // an answer, or the idle watch's) than its events could have (see above).
    bool ran_while_idle(uint64_t cpu_ns);

    boost::asio::io_context::executor_type executor_;
    Settings settings_;
    FunctionVersionPtr version_;
    pid_t pid_;
    pid_t process_group_;  // killed whole: the worker's, or its namespace init's
    std::optional<uid_t> own_uid_;
    boost::asio::local::stream_protocol::socket socket_;
    boost::asio::posix::stream_descriptor pidfd_;
    UniqueFd stdout_capture_;
    UniqueFd stderr_capture_;
    boost::asio::steady_timer timer_;
    ExitObserver on_exit_;

    std::atomic<Phase> phase_{Phase::starting};
    uint64_t timer_sequence_ = 0;  // a timer that fired for an earlier phase is ignored
    std::string incoming_;  // bytes from the worker not yet cut into frames
    std::string body_;      // the body of the frame being handled
    bool writing_ = false;  // an event is still being written to the worker
    std::chrono::steady_clock::time_point sent_at_;  // start of the init or of the current event
    std::string violation_;         // set when the worker broke the protocol
    bool sandbox_entered_ = false;  // the worker's Sandboxed frame arrived: function code may run
    uint32_t last_max_memory_mb_ = 0;

    cgroup::EnvironmentCgroupPtr cgroup_;  // null without cgroups; removed when this object goes
    bool frozen_ = false;
    bool restless_ = false;         // frozen whenever idle: something ran between events
    uint32_t results_ = 0;          // Result frames received
    uint32_t cgroup_peak_mb_ = 0;   // the cgroup's peak memory at the last reading
    uint64_t cpu_reported_ns_ = 0;  // the cgroup's CPU time at the last reading of a report
    std::chrono::microseconds idle_check_delay_ = freeze_delay;  // until the next idle check
    std::chrono::microseconds idle_looked_for_{};  // idle time the checks since the answer covered
    uint64_t idle_check_cpu_ns_ = 0;      // the cgroup's CPU time at the last idle check
    uint64_t events_ns_since_check_ = 0;  // what events since then may have used

    std::function<void(Startup)> on_started_;  // pending until Ready or death
    ExecutionDone on_executed_;                // pending until Result, deadline or death

    std::mutex exit_mutex_;  // reap() may run on the io thread and in kill_and_wait()
    bool reaped_ = false;
    WorkerExit exit_;
};

}  // namespace sofaas
