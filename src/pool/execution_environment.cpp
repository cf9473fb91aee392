#include "pool/execution_environment.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/fmt/fmt.h>

#include "common/time.h"
#include "pool/captured_output.h"
#include "pool/child_processes.h"
#include "pool/worker_launcher.h"
#include "pool/worker_spawn.h"

namespace sofaas {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// What one read asks for when no larger frame is known to be coming: room for a typical
// Result (and its output) in one recv.
constexpr size_t read_chunk_bytes = 16 * 1024;

// A warm environment keeps its buffers between invocations, but one 6 MiB event or result
// must not leave 6 MiB behind in every environment that ever saw one.
constexpr size_t kept_buffer_bytes = 64 * 1024;

void release_if_large(std::string& buffer) {
    if (buffer.empty() && buffer.capacity() > kept_buffer_bytes) std::string().swap(buffer);
}

uint32_t bytes_to_mb_rounded_up(uint64_t bytes) {
    return kb_to_mb_rounded_up((bytes + 1023) / 1024);
}
}  // namespace

std::variant<ExecutionEnvironment::Ptr, std::string> ExecutionEnvironment::spawn(
    asio::io_context& io, WorkerLauncher& launcher, Settings settings, FunctionVersionPtr version,
    ExitObserver on_exit) {
    SpawnOutcome outcome = launcher.launch(*version);
    if (!outcome.process) {
        return std::move(outcome.error);
    }
    return std::make_shared<ExecutionEnvironment>(io, std::move(*outcome.process), settings,
                                                  std::move(version), std::move(on_exit));
}

ExecutionEnvironment::ExecutionEnvironment(asio::io_context& io, WorkerProcess process, Settings settings,
                                           FunctionVersionPtr version, ExitObserver on_exit)
    : executor_(io.get_executor()),
      settings_(settings),
      version_(std::move(version)),
      pid_(process.pid),
      process_group_(process.process_group),
      own_uid_(process.own_uid),
      socket_(executor_),
      pidfd_(executor_),
      stdout_capture_(std::move(process.stdout_capture)),
      stderr_capture_(std::move(process.stderr_capture)),
      timer_(executor_),
      on_exit_(std::move(on_exit)),
      cgroup_(std::move(process.cgroup)) {
    socket_.assign(asio::local::stream_protocol(), process.socket.release());
    pidfd_.assign(process.pidfd.release());
}

ExecutionEnvironment::~ExecutionEnvironment() {
    // Normally reaped long before; this covers an io_context destroyed with work pending,
    // which would otherwise leave a zombie (or a live worker) behind.
    kill_and_wait();
}

void ExecutionEnvironment::start(std::function<void(Startup)> done) {
    asio::dispatch(executor_, [self = shared_from_this(), done = std::move(done)]() mutable {
        self->on_started_ = std::move(done);
        // The cold start is timed here too, for the same reason as an invocation's duration.
        self->sent_at_ = std::chrono::steady_clock::now();
        self->arm_timer(self->settings_.init_timeout);
        self->read_next_frame();
    });
}

void ExecutionEnvironment::invoke(std::string request_id, std::shared_ptr<const EventToRun> event,
                                  ExecutionDone done) {
    asio::dispatch(executor_, [self = shared_from_this(), request_id = std::move(request_id),
                             event = std::move(event), done = std::move(done)]() mutable {
        if (self->phase_ != Phase::idle) {
            done(std::nullopt);
            return;
        }
        if (self->writing_) {
            // Its Result came before it had read the whole previous event: no worker does
            // that on its own, and a second write must not interleave with the first.
            self->on_protocol_violation("a Result arrived before its event was read");
            done(std::nullopt);
            return;
        }
        self->phase_ = Phase::running;
        self->on_executed_ = std::move(done);

        const auto timeout = std::chrono::seconds(self->version_->spec.timeout_s);
        const int64_t deadline_unix_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>((wall_now() + timeout).time_since_epoch()).count();
        // The frame belongs to its write, not to the environment: it lives exactly as long
        // as the write needs it, and a 6 MiB event is not kept after it has been sent.
        auto frame = std::make_shared<std::string>();
        protocol::encode_invoke(request_id, deadline_unix_ms, event->caller, event->payload, *frame);

        if (self->frozen_) {
            // Before the event is written: a frozen worker would not read it.
            self->cgroup_->thaw();
            self->frozen_ = false;
        }
        // The deadline runs from the moment the event is handed to the worker.
        self->sent_at_ = std::chrono::steady_clock::now();
        self->arm_timer(timeout);
        self->writing_ = true;
        asio::async_write(self->socket_, asio::buffer(*frame),
                          asio::bind_executor(self->executor_, [self, frame](error_code ec, size_t) {
                              self->writing_ = false;
                              if (ec) {
                                  self->on_connection_lost();
                              }
                          }));
    });
}

void ExecutionEnvironment::kill() {
    asio::dispatch(executor_, [self = shared_from_this()] {
        if (self->phase_ != Phase::dead) {
            self->die();
        }
    });
}

// SIGKILL, not SIGTERM: a function may catch or ignore SIGTERM, and a deadline must hold.
// The whole process group goes, so that what the function forked goes too. In a pid
// namespace of its own the group is led by the namespace's init, whose death takes every
// process of the namespace, however it detached itself (worker/environment_init.h). With
// a cgroup, everything in it goes as well. Otherwise a process that left the group
// (setsid) becomes the daemon's child when the worker dies, and the pool kills it then
// (child_processes.h).
void ExecutionEnvironment::kill_process_group() {
    ::kill(-process_group_, SIGKILL);
    ::kill(pid_, SIGKILL);
    if (cgroup_) cgroup_->kill();
}

void ExecutionEnvironment::kill_and_wait() {
    std::lock_guard lock(exit_mutex_);
    if (!reaped_) {
        kill_process_group();
        reap_locked(true);
    }
}

// A Result usually arrives whole, so one read brings header and body: frames are cut out
// of what is buffered before reading more (one recv per invocation instead of two).
void ExecutionEnvironment::read_next_frame() {
    size_t wanted = protocol::header_size;
    if (incoming_.size() >= protocol::header_size) {
        const protocol::FrameHeader header = protocol::read_header(incoming_.data());
        if (header.body_size > protocol::max_body_size) {
            on_protocol_violation(fmt::format("frame body of {} bytes", header.body_size));
            return;
        }
        wanted = protocol::header_size + header.body_size;
        if (incoming_.size() >= wanted) {
            body_.assign(incoming_, protocol::header_size, header.body_size);
            incoming_.erase(0, wanted);
            on_frame(static_cast<protocol::FrameType>(header.type));
            return;
        }
    }
    // No read is pending here, so the buffers may be given back.
    body_.clear();
    release_if_large(body_);
    release_if_large(incoming_);
    const size_t have = incoming_.size();
    const size_t chunk = std::max(wanted - std::min(wanted, have), read_chunk_bytes);
    incoming_.resize(have + chunk);
    socket_.async_read_some(asio::buffer(incoming_.data() + have, chunk),
                            asio::bind_executor(executor_, [self = shared_from_this(), have](error_code ec, size_t n) {
        self->incoming_.resize(have + (ec ? 0 : n));
        if (ec) {
            self->on_connection_lost();
            return;
        }
        self->read_next_frame();
    }));
}

void ExecutionEnvironment::on_frame(protocol::FrameType type) {
    if (phase_ == Phase::dead) {
        return;  // a frame that was in flight when the worker was killed
    }
    if (phase_ == Phase::starting && type == protocol::FrameType::sandboxed && !sandbox_entered_) {
        sandbox_entered_ = true;
        read_next_frame();
    } else if (phase_ == Phase::starting && type == protocol::FrameType::ready) {
        if (auto ready = protocol::decode_ready(body_)) {
            on_ready(*ready);
        } else {
            on_protocol_violation("unreadable Ready frame");
        }
    } else if (phase_ == Phase::running && type == protocol::FrameType::result) {
        if (auto result = protocol::decode_result(body_)) {
            on_result(std::move(*result));
        } else {
            on_protocol_violation("unreadable Result frame");
        }
    } else {
        on_protocol_violation(fmt::format("unexpected frame type {}", static_cast<uint32_t>(type)));
    }
}

void ExecutionEnvironment::on_ready(const protocol::Ready& ready) {
    timer_.cancel();
    auto done = std::exchange(on_started_, nullptr);
    Startup startup;
    // Measured by the daemon (start() to Ready): function code can send a Ready frame of its
    // own claiming any init_ms, 0 or 1e300 (tests/fixtures/forged_init.c).
    startup.init_ms = elapsed_ms();
    if (ready.ok) {
        phase_ = Phase::idle;
        startup.ok = true;
        // The first event reports its own CPU time, not the cold start's.
        InvocationReport init;
        account(init, Look::thorough);
        idle_check_cpu_ns_ = cpu_reported_ns_;
        // The worker may still be finishing its Ready when the cgroup is read.
        events_ns_since_check_ = static_cast<uint64_t>(std::chrono::nanoseconds(ready_cpu_allowance).count());
        read_next_frame();  // while idle, this notices a worker that dies
        rest();
    } else {
        // The worker exits by itself after a failed Ready; killing it just saves the wait.
        startup.error_type = ready.error_type;
        startup.error_message = ready.error_message;
        // Only a worker that has not yet said its sandbox is in place is believed: after
        // that, function code holds the socket and can send any Ready it likes.
        startup.host_fault = !sandbox_entered_ && ready.error_type == protocol::sandbox_error_type;
        startup.captured_stdout = drain_capture(stdout_capture_.get(), settings_.max_log_bytes);
        startup.captured_stderr = drain_capture(stderr_capture_.get(), settings_.max_log_bytes);
        die();
    }
    if (done) {
        done(std::move(startup));
    }
}

void ExecutionEnvironment::on_result(protocol::Result result) {
    phase_ = Phase::idle;
    last_max_memory_mb_ = kb_to_mb_rounded_up(result.max_memory_used_kb);

    InvocationReport report;
    report.status = result.ok ? InvocationStatus::ok : InvocationStatus::error;
    report.output = std::move(result.output);  // up to 6 MiB: moved, not copied
    if (!result.ok) {
        report.error_type = result.error_type.empty() ? "FunctionError" : std::move(result.error_type);
        report.error_message = std::move(result.error_message);
    }
    // Billed on the daemon's clock: the function runs inside the worker and can write a
    // Result frame of its own to fd 3 claiming any duration (tests/fixtures/forged_result.c).
    // The worker's measure only differs by the frame round trip, well under the 1 ms unit.
    report.duration_ms = elapsed_ms();
    report.max_memory_used_mb = last_max_memory_mb_;
    events_ns_since_check_ += static_cast<uint64_t>(report.duration_ms * 1e6) +
                              static_cast<uint64_t>(std::chrono::nanoseconds(answer_cpu_allowance).count());
    // The handler's own time, as the worker measured it: the daemon's clock also counts the
    // wait for a CPU, which on a busy machine makes every event look long. A function can
    // claim any duration here, and so keep its own peak from being read: the limit holds
    // all the same.
    const auto oom_kills = account(report, look_at_result(result.duration_ms));
    ++results_;
    if (oom_kills && *oom_kills > 0) {
        // The kernel killed a process of the environment at its memory limit (a child, a
        // helper: the worker itself answered): the event ran out of memory, whatever the
        // answer says, and the environment goes.
        ExitDiagnosis diagnosis = out_of_memory(version_->spec.memory_mb);
        report.status = diagnosis.status;
        report.error_type = std::move(diagnosis.error_type);
        report.error_message = std::move(diagnosis.error_message);
        report.output.clear();
        report = with_captures(std::move(report));
        die();
    } else {
        report = with_captures(std::move(report));
        read_next_frame();
        rest();
    }
    if (auto done = std::exchange(on_executed_, nullptr)) {
        done(std::move(report));
    }
}

void ExecutionEnvironment::on_timer(uint64_t sequence) {
    if (sequence != timer_sequence_) {
        return;  // fired for an earlier phase
    }
    if (phase_ == Phase::starting) {
        auto done = std::exchange(on_started_, nullptr);
        die();
        Startup startup;
        startup.failure = InvocationStatus::timeout;
        startup.host_fault = !sandbox_entered_;  // stuck before any function code was loaded
        startup.init_ms = elapsed_ms();
        startup.error_type = "Runtime.InitTimeout";
        startup.error_message = fmt::format("Init timed out after {:.2f} seconds",
                                            settings_.init_timeout.count() / 1000.0);
        startup.captured_stdout = drain_capture(stdout_capture_.get(), settings_.max_log_bytes);
        startup.captured_stderr = drain_capture(stderr_capture_.get(), settings_.max_log_bytes);
        if (done) {
            done(std::move(startup));
        }
    } else if (phase_ == Phase::running) {
        // SIGKILL, not SIGTERM: the function may ignore or handle SIGTERM, and a deadline
        // must hold whatever the function does. The answer does not wait for the reap.
        auto done = std::exchange(on_executed_, nullptr);
        const uint32_t timeout_s = version_->spec.timeout_s;
        InvocationReport report;
        report.status = InvocationStatus::timeout;
        report.error_type = "Sandbox.Timedout";
        report.error_message = timeout_message(timeout_s);
        if (!account(report, Look::thorough)) {
            report.max_memory_used_mb = std::max(last_max_memory_mb_, kb_to_mb_rounded_up(peak_rss_kb(pid_)));
        }
        die();
        report.duration_ms = elapsed_ms();  // measured: a late timer must show in the bill
        if (done) {
            done(with_captures(std::move(report)));
        }
    } else if (phase_ == Phase::idle && cgroup_ && !frozen_) {
        const std::optional<uint64_t> cpu_ns = cgroup_->cpu_ns();
        restless_ = restless_ || !cpu_ns || ran_while_idle(*cpu_ns);  // unreadable: freeze it
        if (restless_) {
            frozen_ = cgroup_->freeze();
        } else if ((idle_looked_for_ += idle_check_delay_) < idle_watch_interval) {
            // Later looks see a signal handler due later, or a function that got little CPU
            // so far (a busy host); after a second, the pool's idle watch goes on.
            idle_check_delay_ = std::min(idle_check_delay_ * 10, idle_check_step);
            arm_timer(idle_check_delay_);
        }
    }
}

bool ExecutionEnvironment::ran_while_idle(uint64_t cpu_ns) {
    const uint64_t used = cpu_ns - std::min(cpu_ns, idle_check_cpu_ns_);
    const uint64_t may_have_used = events_ns_since_check_;
    idle_check_cpu_ns_ = cpu_ns;
    // What the worker has not yet used of its allowance stays: it may not have run yet.
    const auto most = static_cast<uint64_t>(std::chrono::nanoseconds(ready_cpu_allowance).count());
    events_ns_since_check_ = used > may_have_used ? 0 : std::min(may_have_used - used, most);
    return used > may_have_used;
}

void ExecutionEnvironment::on_connection_lost() {
    if (phase_ != Phase::dead) {
        die();  // the pending callback is answered once the exit status is known
    }
}

void ExecutionEnvironment::on_protocol_violation(std::string reason) {
    if (phase_ != Phase::dead) {
        violation_ = std::move(reason);
        die();
    }
}

void ExecutionEnvironment::die() {
    phase_ = Phase::dead;
    frozen_ = false;  // killing thaws
    {
        std::lock_guard lock(exit_mutex_);
        if (!reaped_) {
            kill_process_group();  // once reaped, the pid may belong to someone else
        }
    }
    timer_.cancel();
    error_code ignored;
    socket_.close(ignored);
    await_exit();
}

void ExecutionEnvironment::await_exit() {
    pidfd_.async_wait(asio::posix::descriptor_base::wait_read,
                      asio::bind_executor(executor_, [self = shared_from_this()](error_code ec) {
        {
            std::lock_guard lock(self->exit_mutex_);
            // The pidfd is readable once the process has exited, so this wait is short;
            // without a usable pidfd, blocking is the only way left not to leave a zombie.
            if (!self->reap_locked(static_cast<bool>(ec))) {
                self->await_exit();
                return;
            }
        }
        self->on_process_exit();
    }));
}

bool ExecutionEnvironment::reap_locked(bool block) {
    if (reaped_) {
        return true;
    }
    // Processes the function forked share the worker's process group: they die with it.
    // While the exited worker is not yet reaped it is still a member of the group, so the
    // group id cannot belong to anyone else: this is the last safe moment to do it.
    siginfo_t exited{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &exited, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        exited.si_pid == pid_) {
        ::kill(-process_group_, SIGKILL);
    }
    int status = 0;
    struct rusage usage {};
    pid_t reaped;
    do {
        reaped = ::wait4(pid_, &status, block ? 0 : WNOHANG, &usage);
    } while (reaped < 0 && errno == EINTR);
    if (reaped == 0) {
        return false;
    }
    reaped_ = true;
    ChildProcesses::of_this_process().reaped(pid_);
    if (reaped == pid_) {
        exit_.wait_status = status;
        exit_.max_rss_kb = usage.ru_maxrss;
    }
    return true;
}

void ExecutionEnvironment::on_process_exit() {
    error_code ignored;
    pidfd_.close(ignored);

    // The cgroup outlives its processes until this object goes: its count of
    // out-of-memory kills says whether memory ran out, its peak how much was used.
    InvocationReport accounted;
    const std::optional<uint64_t> oom_kills = account(accounted, Look::thorough);
    ExitDiagnosis diagnosis = diagnose_exit(exit_, version_->spec.memory_mb, oom_kills);
    if (!violation_.empty()) {
        diagnosis = {InvocationStatus::crash, "Runtime.ExitError",
                     "Runtime sent a malformed frame: " + violation_};
    }
    if (auto done = std::exchange(on_started_, nullptr)) {
        Startup startup;
        startup.failure = diagnosis.status;
        startup.host_fault = !sandbox_entered_;  // died before any function code was loaded
        startup.init_ms = elapsed_ms();
        startup.error_type = diagnosis.error_type;
        startup.error_message = diagnosis.error_message;
        startup.captured_stdout = drain_capture(stdout_capture_.get(), settings_.max_log_bytes);
        startup.captured_stderr = drain_capture(stderr_capture_.get(), settings_.max_log_bytes);
        done(std::move(startup));
    }
    if (auto done = std::exchange(on_executed_, nullptr)) {
        InvocationReport report;
        report.status = diagnosis.status;
        report.error_type = diagnosis.error_type;
        report.error_message = diagnosis.error_message;
        report.duration_ms = elapsed_ms();
        report.max_memory_used_mb =
            oom_kills ? accounted.max_memory_used_mb
                      : std::max(last_max_memory_mb_, kb_to_mb_rounded_up(static_cast<uint64_t>(exit_.max_rss_kb)));
        report.cpu_ms = accounted.cpu_ms;
        done(with_captures(std::move(report)));
    }
    if (on_exit_) {
        on_exit_(*this);
    }
}

void ExecutionEnvironment::arm_timer(std::chrono::steady_clock::duration after) {
    const uint64_t sequence = ++timer_sequence_;
    timer_.expires_after(after);
    timer_.async_wait(asio::bind_executor(executor_, [self = shared_from_this(), sequence](error_code ec) {
        if (!ec) {
            self->on_timer(sequence);
        }
    }));
}

std::optional<uint64_t> ExecutionEnvironment::account(InvocationReport& report, Look look) {
    if (!cgroup_) return std::nullopt;
    if (look == Look::none) {
        // The worker's own peak only adds to it: a Result frame can claim anything.
        report.max_memory_used_mb = std::max(report.max_memory_used_mb, cgroup_peak_mb_);
        return std::nullopt;
    }
    // The cgroup's figures, not the worker's: function code shares the worker's socket and
    // can write any Result frame.
    const auto take = [&](uint64_t peak_bytes, uint64_t cpu_ns) {
        cgroup_peak_mb_ = last_max_memory_mb_ = bytes_to_mb_rounded_up(peak_bytes);
        report.max_memory_used_mb = cgroup_peak_mb_;
        report.cpu_ms = static_cast<double>(cpu_ns - std::min(cpu_ns, cpu_reported_ns_)) / 1e6;
        cpu_reported_ns_ = cpu_ns;
    };
    if (look == Look::thorough) {
        const auto usage = cgroup_->usage();
        if (!usage) return std::nullopt;
        take(usage->peak_memory_bytes, usage->cpu_ns);
        restless_ = restless_ || usage->tasks > 1;
        return usage->oom_kills;
    }
    const auto peak = cgroup_->peak_memory_bytes();
    const auto cpu = cgroup_->cpu_ns();
    if (!peak || !cpu) return std::nullopt;
    take(*peak, *cpu);
    const uint64_t limit = static_cast<uint64_t>(version_->spec.memory_mb) << 20;
    if (*peak + oom_margin_bytes < limit) return 0;
    return cgroup_->oom_kills();
}

ExecutionEnvironment::Look ExecutionEnvironment::look_at_result(double duration_ms) const {
    if (restless_ || results_ < thorough_results) return Look::thorough;
    const double unread_below_ms = std::chrono::duration<double, std::milli>(unread_below).count();
    return duration_ms < unread_below_ms ? Look::none : Look::quick;
}

void ExecutionEnvironment::rest() {
    if (cgroup_) {
        // Every environment, not only a restless one: the worker's Result may be forged by
        // the function, whose code then runs on in the worker's own thread.
        idle_check_delay_ = restless_ ? freeze_delay : first_idle_look;
        idle_looked_for_ = {};
        arm_timer(idle_check_delay_);  // replaces the deadline's or the init's wait
    } else {
        timer_.cancel();
    }
}

void ExecutionEnvironment::watch_idle() {
    asio::dispatch(executor_, [self = shared_from_this()] {
        if (self->phase_ != Phase::idle || !self->cgroup_ || self->frozen_) return;
        const auto usage = self->cgroup_->usage();
        if (!usage) return;
        if (usage->oom_kills > 0) {
            // A process of the environment was killed at its memory limit after the last
            // look: the environment is replaced.
            self->die();
            return;
        }
        self->cgroup_peak_mb_ = bytes_to_mb_rounded_up(usage->peak_memory_bytes);
        const bool ran = self->ran_while_idle(usage->cpu_ns);
        if (ran || usage->tasks > 1) {
            self->restless_ = true;
            self->frozen_ = self->cgroup_->freeze();
        }
    });
}

void ExecutionEnvironment::let_signals_land() {
    asio::dispatch(executor_, [self = shared_from_this()] {
        if (self->phase_ != Phase::idle || !self->frozen_) return;
        self->cgroup_->thaw();
        self->frozen_ = false;
        self->arm_timer(freeze_delay);
    });
}

InvocationReport ExecutionEnvironment::with_captures(InvocationReport report) {
    report.captured_stdout = drain_capture(stdout_capture_.get(), settings_.max_log_bytes);
    report.captured_stderr = drain_capture(stderr_capture_.get(), settings_.max_log_bytes);
    return report;
}

double ExecutionEnvironment::elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_at_).count();
}

}  // namespace sofaas
