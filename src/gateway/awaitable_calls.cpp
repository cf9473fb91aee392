#include "gateway/awaitable_calls.h"

#include <atomic>
#include <exception>
#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "events/dispatcher.h"
#include "pool/pool.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

// The callbacks are std::function (copyable) and the coroutine's completion handler is
// move-only, so the handler rides in a shared_ptr. The callback may run on another thread
// than the connection's: the completion is dispatched to the handler's executor, which
// resumes the coroutine right there when called on the connection's own io thread (the
// usual case: the pool prefers environments of the caller's thread), and queues it there
// otherwise. Only a callback that runs before the
// initiating call has returned is posted: resuming the coroutine inside its own
// initiation is not allowed.
template <typename Handler>
struct Resumption {
    explicit Resumption(Handler&& handler) : handler(std::move(handler)) {}
    Handler handler;
    std::atomic<bool> initiated{false};
};

template <typename Handler, typename Start>
void start_and_resume(Handler&& handler, Start&& start) {
    auto shared = std::make_shared<Resumption<std::decay_t<Handler>>>(std::forward<Handler>(handler));
    start([shared](auto value) {
        auto executor = boost::asio::get_associated_executor(shared->handler);
        auto resume = [shared, value = std::move(value)]() mutable { std::move(shared->handler)(std::move(value)); };
        if (shared->initiated.load(std::memory_order_acquire)) {
            boost::asio::dispatch(executor, std::move(resume));
        } else {
            boost::asio::post(executor, std::move(resume));
        }
    });
    shared->initiated.store(true, std::memory_order_release);
}

}  // namespace

boost::asio::awaitable<InvocationReport> async_invoke(Scheduler& scheduler, InvocationRequest request) {
    InvocationReport report = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                                   void(InvocationReport)>(
        [&scheduler](auto handler, InvocationRequest request) {
            start_and_resume(std::move(handler), [&](auto resume) {
                scheduler.invoke(std::move(request),
                                 [resume](InvocationReport report) mutable { resume(std::move(report)); });
            });
        },
        boost::asio::use_awaitable, std::move(request));
    co_return report;
}

boost::asio::awaitable<EnqueueResult> async_enqueue(Dispatcher& dispatcher, NewEvent event) {
    EnqueueResult result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                                void(EnqueueResult)>(
        [&dispatcher](auto handler, NewEvent event) {
            start_and_resume(std::move(handler), [&](auto resume) {
                dispatcher.enqueue(std::move(event), [resume](EnqueueResult result) mutable { resume(std::move(result)); });
            });
        },
        boost::asio::use_awaitable, std::move(event));
    co_return result;
}

// A retry that waits is resumed by the first call's completion, on the first call's
// thread: dispatched to its own connection's executor like any other completion.
boost::asio::awaitable<JoinedInvocation> async_join_invocation(InvocationReplay& replay, InvocationKey key) {
    JoinedInvocation joined = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                                   void(JoinedInvocation)>(
        [&replay](auto handler, InvocationKey key) {
            start_and_resume(std::move(handler), [&](auto resume) {
                std::optional<InvocationReplay::Claim> claim =
                    replay.begin(key, [resume](HttpResponseParts answer) mutable {
                        resume(JoinedInvocation{std::nullopt, std::move(answer)});
                    });
                if (claim) resume(JoinedInvocation{std::move(claim), std::nullopt});
            });
        },
        boost::asio::use_awaitable, std::move(key));
    co_return joined;
}

boost::asio::awaitable<std::optional<TrialLoadFailure>> async_trial_load(Pool& pool, FunctionVersionPtr version) {
    std::optional<TrialLoadFailure> failure = co_await boost::asio::async_initiate<
        decltype(boost::asio::use_awaitable), void(std::optional<TrialLoadFailure>)>(
        [&pool](auto handler, FunctionVersionPtr version) {
            start_and_resume(std::move(handler), [&](auto resume) {
                pool.trial_load(std::move(version), [resume](std::optional<TrialLoadFailure> failure) mutable {
                    resume(std::move(failure));
                });
            });
        },
        boost::asio::use_awaitable, std::move(version));
    co_return failure;
}

// A completion whose first argument is an exception_ptr: use_awaitable rethrows it.
boost::asio::awaitable<void> run_blocking(boost::asio::thread_pool& blocking, std::function<void()> work) {
    co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(std::exception_ptr)>(
        [&blocking](auto handler, std::function<void()> work) {
            start_and_resume(std::move(handler), [&](auto resume) {
                boost::asio::post(blocking, [work = std::move(work), resume]() mutable {
                    std::exception_ptr thrown;
                    try {
                        work();
                    } catch (...) {
                        thrown = std::current_exception();
                    }
                    resume(thrown);
                });
            });
        },
        boost::asio::use_awaitable, std::move(work));
}

}  // namespace sofaas
