// The HTTP/1.1 server loop (Beast): accept, and per connection read, handle, write.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/router.h"

namespace boost::asio {
class io_context;
}

namespace sofaas {

// Accepts until `acceptor` is closed. Each connection runs as its own coroutine on one of
// `contexts` (never empty), taken in turn; each must be run by exactly one thread (no
// strand guards a connection), and a connection and the environments it starts then stay
// on that thread.
boost::asio::awaitable<void> accept_connections(std::vector<boost::asio::io_context*> contexts,
                                                boost::asio::ip::tcp::acceptor& acceptor,
                                                std::shared_ptr<Router> router);

}  // namespace sofaas
