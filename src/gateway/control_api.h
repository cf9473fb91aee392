// The control API (/v1/...), as the CLI speaks it. Every route needs the admin token or an
// admin key, except invoking a function, which an invoke key that may invoke it can do.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

boost::asio::awaitable<HttpResponseParts> handle_control_api(HandlerContext& context,
                                                             const IncomingRequest& request);

// /v1/keys and /v1/keys/NAME (keys_api.cpp); `path` is the decoded segments.
boost::asio::awaitable<HttpResponseParts> handle_keys_api(HandlerContext& context, const IncomingRequest& request,
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
// POST /v1/functions/NAME/invoke (direct_invoke.cpp).
boost::asio::awaitable<HttpResponseParts> invoke_function(HandlerContext& context,
                                                          const IncomingRequest& request,
                                                          const std::string& function);

}  // namespace sofaas
