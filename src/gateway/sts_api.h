// The STS endpoint: AssumeRoleWithWebIdentity (sts/assume_role.h) in STS's query protocol
// (gateway/sts_query.h). Point an SDK's STS client at http://HOST:PORT/sts/ (or the root:
// a POST to / with a form body is STS's too). Anyone may call it: the identity token in
// the request is the only credential, and an Authorization header is ignored.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

// /sts and /sts/, any method; / when it is a POST of a form or a GET with ?Action=.
bool is_sts_request(const IncomingRequest& request);

boost::asio::awaitable<HttpResponseParts> handle_sts(HandlerContext& context, const IncomingRequest& request);

}  // namespace sofaas
