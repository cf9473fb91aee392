// The scheduler and the pool complete through callbacks on any io thread; the gateway's
// handlers are coroutines. These adapters let a handler `co_await` them and resume on
// its own connection's executor.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/function_spec.h"
#include "common/invocation.h"
#include "pool/pool.h"

namespace sofaas {

class Scheduler;
struct InvocationRequest;

boost::asio::awaitable<InvocationResult> async_invoke(Scheduler& scheduler, InvocationRequest request);
// nullopt when the library loads; else why it does not.
boost::asio::awaitable<std::optional<TrialLoadFailure>> async_trial_load(Pool& pool, FunctionVersionPtr version);

}  // namespace sofaas
