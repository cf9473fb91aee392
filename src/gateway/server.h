// The HTTP/1.1 server loop (Beast): accept, and per connection read, handle, write.
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/router.h"

namespace boost::asio {
class io_context;
}

namespace sofaas {

// Accepts until `acceptor` is closed. Each connection runs as its own coroutine on its
// own strand of `io`.
boost::asio::awaitable<void> accept_connections(boost::asio::io_context& io,
                                                boost::asio::ip::tcp::acceptor& acceptor,
                                                std::shared_ptr<Router> router);

}  // namespace sofaas
