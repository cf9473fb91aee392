#include "gateway/awaitable_calls.h"

#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pool/pool.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

// The callbacks are std::function (copyable) and the coroutine's completion handler is
// move-only, so the handler rides in a shared_ptr. The completion is posted to the
// handler's executor: the callback may run on another thread than the connection's.
template <typename Handler>
auto resume_on_own_executor(Handler&& handler) {
    auto shared = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    return [shared](auto value) {
        auto executor = boost::asio::get_associated_executor(*shared);
        boost::asio::post(executor, [shared, value = std::move(value)]() mutable {
            std::move (*shared)(std::move(value));
        });
    };
}

}  // namespace

boost::asio::awaitable<InvocationResult> async_invoke(Scheduler& scheduler, InvocationRequest request) {
    InvocationResult result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                                   void(InvocationResult)>(
        [&scheduler](auto handler, InvocationRequest request) {
            auto resume = resume_on_own_executor(std::move(handler));
            scheduler.invoke(std::move(request),
                             [resume](InvocationResult result) mutable { resume(std::move(result)); });
        },
        boost::asio::use_awaitable, std::move(request));
    co_return result;
}

boost::asio::awaitable<std::optional<TrialLoadFailure>> async_trial_load(Pool& pool, FunctionVersionPtr version) {
    std::optional<TrialLoadFailure> failure = co_await boost::asio::async_initiate<
        decltype(boost::asio::use_awaitable), void(std::optional<TrialLoadFailure>)>(
        [&pool](auto handler, FunctionVersionPtr version) {
            auto resume = resume_on_own_executor(std::move(handler));
            pool.trial_load(std::move(version), [resume](std::optional<TrialLoadFailure> failure) mutable {
                resume(std::move(failure));
            });
        },
        boost::asio::use_awaitable, std::move(version));
    co_return failure;
}

}  // namespace sofaas
