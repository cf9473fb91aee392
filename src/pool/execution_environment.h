// One execution environment: one sofaas-worker process, the daemon side of its protocol
// socket, its capture memfds and its deadline. Everything it does runs on its io_context,
// which one thread runs (the daemon's contract for every io_context: no strands needed),
// so a Result, a deadline expiry and the worker's death never race each other.
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

#include "pool/pool.h"
#include "pool/unique_fd.h"
#include "pool/worker_exit.h"
#include "worker/protocol.h"

namespace sofaas {

struct WorkerProcess;
class WorkerLauncher;

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
    // An Execution, or nullopt when the environment was already dead and nothing ran.
    using ExecutionDone = std::function<void(std::optional<Execution>)>;

    struct Settings {
        std::chrono::milliseconds init_timeout;
        size_t max_log_bytes;
    };

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
    // The event is shared so that a caller can rerun it elsewhere when nothing ran here.
    void invoke(std::string request_id, std::shared_ptr<const std::string> event, ExecutionDone done);
    // SIGKILL now; the process is reaped asynchronously.
    void kill();
    // SIGKILL and reap before returning (daemon shutdown, when io threads may be gone).
    void kill_and_wait();

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
    Execution execution_with_captures(Execution execution);
    double elapsed_ms() const;

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

    std::function<void(Startup)> on_started_;  // pending until Ready or death
    ExecutionDone on_executed_;                // pending until Result, deadline or death

    std::mutex exit_mutex_;  // reap() may run on the io thread and in kill_and_wait()
    bool reaped_ = false;
    WorkerExit exit_;
};

}  // namespace sofaas
