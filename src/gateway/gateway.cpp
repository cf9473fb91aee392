#include "gateway/gateway.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/format.h>

#include <stdexcept>
#include <system_error>

#include "gateway/router.h"
#include "gateway/server.h"

namespace sofaas {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Gateway::State {
    State(std::vector<asio::io_context*> io_contexts, GatewayServices services)
        : contexts(std::move(io_contexts)),
          io(*contexts.front()),
          router(std::make_shared<Router>(std::move(services))),
          acceptor(asio::make_strand(io)) {}

    const std::vector<asio::io_context*> contexts;  // connections are spread over these
    asio::io_context& io;                          // the first: the acceptor's
    std::shared_ptr<Router> router;
    // On a strand: stop_accepting() closes it from whatever thread calls it.
    tcp::acceptor acceptor;
};

namespace {

tcp::endpoint resolve_listen_endpoint(asio::io_context& io, const std::string& host, uint16_t port) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) return {address, port};
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                "cannot resolve listen host " + host);
    }
    return results.begin()->endpoint();
}

std::string to_host_port(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                           : fmt::format("{}:{}", address.to_string(), endpoint.port());
}

}  // namespace

Gateway::Gateway(asio::io_context& io, GatewayServices services)
    : Gateway(std::vector<asio::io_context*>{&io}, std::move(services)) {}

Gateway::Gateway(std::vector<asio::io_context*> contexts, GatewayServices services) {
    if (contexts.empty()) throw std::invalid_argument("a gateway needs at least one io_context");
    state_ = std::make_shared<State>(std::move(contexts), std::move(services));
}

Gateway::~Gateway() { stop_accepting(); }

std::string Gateway::start() {
    const Config& config = state_->router->config();
    const tcp::endpoint endpoint = resolve_listen_endpoint(state_->io, config.listen_host, config.listen_port);
    tcp::acceptor& acceptor = state_->acceptor;
    try {
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& error) {
        throw std::system_error(error.code(), "cannot listen on " + to_host_port(endpoint));
    }
    const std::string bound = to_host_port(acceptor.local_endpoint());
    // The lambda holds the state: the acceptor outlives the accept loop.
    asio::co_spawn(
        acceptor.get_executor(),
        [state = state_]() { return accept_connections(state->contexts, state->acceptor, state->router); },
        asio::detached);
    return bound;
}

void Gateway::stop_accepting() {
    state_->router->begin_draining();
    asio::post(state_->acceptor.get_executor(), [state = state_] {
        boost::system::error_code ignored;
        state->acceptor.close(ignored);
    });
}

size_t Gateway::requests_in_progress() const { return state_->router->requests_in_progress(); }

}  // namespace sofaas
