// The scheduler and the pool complete through callbacks on any io thread; the gateway's
// handlers are coroutines. These adapters let a handler `co_await` them and resume on
// its own connection's executor.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/function_spec.h"
#include "common/invocation_report.h"
#include "events/event_store.h"
#include "gateway/invocation_replay.h"
#include "pool/pool.h"

namespace boost::asio {
class thread_pool;
}

namespace sofaas {

class Scheduler;
class Dispatcher;
struct InvocationRequest;

boost::asio::awaitable<InvocationReport> async_invoke(Scheduler& scheduler, InvocationRequest request);
// Resumes once the event is stored (or refused).
boost::asio::awaitable<EnqueueResult> async_enqueue(Dispatcher& dispatcher, NewEvent event);
// A call that carries `key`: its claim when it is the first with that key, which then runs
// the invocation; else, once there is one, the answer of the first (InvocationReplay::begin).
struct JoinedInvocation {
    std::optional<InvocationReplay::Claim> claim;
    std::optional<HttpResponseParts> answer;
};
boost::asio::awaitable<JoinedInvocation> async_join_invocation(InvocationReplay& replay, InvocationKey key);
// nullopt when the library loads; else why it does not.
boost::asio::awaitable<std::optional<TrialLoadFailure>> async_trial_load(Pool& pool, FunctionVersionPtr version);
// Runs `work` on `blocking` and resumes on the caller's executor; what `work` throws is
// rethrown here.
boost::asio::awaitable<void> run_blocking(boost::asio::thread_pool& blocking, std::function<void()> work);

}  // namespace sofaas
