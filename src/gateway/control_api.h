// The control API (/v1/...), as the CLI speaks it. Every route needs the admin token or an
// admin key, except invoking a function, which an invoke key that may invoke it can do.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/invocation_report.h"
#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"
#include "registry/deploy_settings.h"

namespace sofaas {

boost::asio::awaitable<HttpResponseParts> handle_control_api(HandlerContext& context,
                                                             const IncomingRequest& request);

// /v1/roles[/NAME[/revoke-sessions]] (roles_api.cpp); `path` is the decoded segments.
boost::asio::awaitable<HttpResponseParts> handle_roles_api(HandlerContext& context, const IncomingRequest& request,
                                                           const std::vector<std::string>& path);

// /v1/keys and /v1/keys/NAME (keys_api.cpp); `path` is the decoded segments.
boost::asio::awaitable<HttpResponseParts> handle_keys_api(HandlerContext& context, const IncomingRequest& request,
                                                          const std::vector<std::string>& path);

// /v1/user-pools[/POOL[/rotate-key|/users[/USERNAME]]] (user_pools_api.cpp).
boost::asio::awaitable<HttpResponseParts> handle_user_pools_api(HandlerContext& context, const IncomingRequest& request,
                                                                const std::vector<std::string>& path);

// /v1/functions/NAME/queue, .../dead-letters[/...] and .../schedules[/...] (events_api.cpp);
// path[3] is one of those three.
boost::asio::awaitable<HttpResponseParts> handle_events_api(HandlerContext& context, const IncomingRequest& request,
                                                            const std::vector<std::string>& path);
// .../schedules[/ID[/pause|resume]] (schedules_api.cpp): blocks on the event store, so it
// runs on the disk-work thread; throws EventStoreError.
HttpResponseParts schedules_api(HandlerContext& context, const IncomingRequest& request,
                                const std::vector<std::string>& path, const std::string& function);

// GET /v1/schedules (schedules_api.cpp): on the disk-work thread, as schedules_api.
HttpResponseParts list_all_schedules(HandlerContext& context);

// Stages a library, proves it loads in a throwaway worker, publishes it as the function's
// new $LATEST (deploy.cpp): every API surface deploys through here. `refusal` says why not,
// in the control API's terms.
struct PublishResult {
    FunctionVersionPtr version;
    std::optional<HttpResponseParts> refusal;
};
boost::asio::awaitable<PublishResult> publish_library(HandlerContext& context, const std::string& request_id,
                                                     const std::string& function, std::string_view library,
                                                     const FunctionSettings& settings);
// The same library as `current`, with new settings, as the new $LATEST: tried only when the
// handler changes, since nothing else the worker loads does (Lambda's
// UpdateFunctionConfiguration, PATCH /v1/functions/NAME).
boost::asio::awaitable<PublishResult> publish_settings(HandlerContext& context, const std::string& request_id,
                                                      const FunctionVersionPtr& current,
                                                      const FunctionSettings& settings);

// Queues an asynchronous invocation of `version` (pinned: that version, else whatever is
// $LATEST when it runs) under `request_id` (direct_invoke.cpp): every API surface queues
// through here. `refusal` says why not, in the control API's terms. An idempotency key
// (checked by the caller) makes a second event with it within 24 h a duplicate. Every run
// is on behalf of `enqueuer`.
struct QueuedEventResult {
    std::string request_id;  // the event's: the first one's when `duplicate`
    bool duplicate = false;
    std::optional<HttpResponseParts> refusal;
};
boost::asio::awaitable<QueuedEventResult> queue_event(HandlerContext& context, const std::string& request_id,
                                                      const FunctionVersionPtr& version, bool pinned,
                                                      std::string_view payload,
                                                      std::optional<std::string> idempotency_key,
                                                      const Principal& enqueuer);

// Deletes a function with all its versions, its queued events, dead letters, schedules and
// logs (control_api.cpp): first its events, so that a store that cannot write leaves the
// function whole, then once more after, for an event queued meanwhile; none may wait for a
// new function of the same name. Blocks on the disk: call it on the disk-work thread.
struct DeleteResult {
    uint64_t events_dropped = 0;
    std::optional<HttpResponseParts> refusal;  // no such function, or the store cannot write
};
DeleteResult remove_function(HandlerContext& context, const std::string& request_id, const std::string& function);

// /v1/functions/NAME/aliases[/ALIAS] (aliases_api.cpp): writes and fsyncs, so it runs
// on the disk-work thread.
HttpResponseParts aliases_api(HandlerContext& context, const IncomingRequest& request,
                              const std::vector<std::string>& path, const std::string& function);

// PUT /v1/functions/NAME (deploy.cpp).
boost::asio::awaitable<HttpResponseParts> deploy_function(HandlerContext& context,
                                                          const IncomingRequest& request,
                                                          const std::string& function);
// PATCH /v1/functions/NAME (deploy.cpp): new settings, the same code, a new version.
boost::asio::awaitable<HttpResponseParts> update_function_settings(HandlerContext& context,
                                                                   const IncomingRequest& request,
                                                                   const std::string& function);
// POST /v1/functions/NAME/invoke (direct_invoke.cpp), by `principal`.
boost::asio::awaitable<HttpResponseParts> invoke_function(HandlerContext& context,
                                                          const IncomingRequest& request,
                                                          const std::string& function, const Principal& principal);

}  // namespace sofaas
