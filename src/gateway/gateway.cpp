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

namespace {

// metrics_listen serves /metrics alone: the dashboard's files need not be loaded twice.
GatewayServices without_dashboard(GatewayServices services) {
    services.ui_dir = std::nullopt;
    return services;
}

}  // namespace

struct Gateway::State {
    State(std::vector<asio::io_context*> io_contexts, GatewayServices services)
        : contexts(std::move(io_contexts)),
          io(*contexts.front()),
          router(std::make_shared<Router>(services)),
          acceptor(asio::make_strand(io)),
          metrics_router(services.config.metrics.listen_host
                             ? std::make_shared<Router>(without_dashboard(services), RouterRole::metrics_only)
                             : nullptr),
          metrics_acceptor(asio::make_strand(io)) {}

    const std::vector<asio::io_context*> contexts;  // connections are spread over these
    asio::io_context& io;                          // the first: the acceptors'
    std::shared_ptr<Router> router;
    // On a strand: stop_accepting() closes it from whatever thread calls it.
    tcp::acceptor acceptor;
    // metrics_listen, when configured.
    std::shared_ptr<Router> metrics_router;
    tcp::acceptor metrics_acceptor;
    std::string metrics_address;
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

// Binds and listens; returns the bound "HOST:PORT". Throws std::system_error.
std::string listen_on(asio::io_context& io, tcp::acceptor& acceptor, const std::string& host, uint16_t port) {
    const tcp::endpoint endpoint = resolve_listen_endpoint(io, host, port);
    try {
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& error) {
        throw std::system_error(error.code(), "cannot listen on " + to_host_port(endpoint));
    }
    return to_host_port(acceptor.local_endpoint());
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
    const std::string bound = listen_on(state_->io, state_->acceptor, config.listen_host, config.listen_port);
    if (state_->metrics_router) {
        state_->metrics_address =
            listen_on(state_->io, state_->metrics_acceptor, *config.metrics.listen_host, config.metrics.listen_port);
    }
    // The lambdas hold the state: the acceptors outlive the accept loops.
    asio::co_spawn(
        state_->acceptor.get_executor(),
        [state = state_]() { return accept_connections(state->contexts, state->acceptor, state->router); },
        asio::detached);
    if (state_->metrics_router) {
        asio::co_spawn(
            state_->metrics_acceptor.get_executor(),
            [state = state_]() {
                return accept_connections(state->contexts, state->metrics_acceptor, state->metrics_router);
            },
            asio::detached);
    }
    return bound;
}

std::string Gateway::metrics_address() const { return state_->metrics_address; }

void Gateway::refresh_routes() { state_->router->refresh_routes(); }

void Gateway::stop_accepting() {
    state_->router->begin_draining();
    if (state_->metrics_router) state_->metrics_router->begin_draining();
    for (tcp::acceptor* acceptor : {&state_->acceptor, &state_->metrics_acceptor}) {
        asio::post(acceptor->get_executor(), [state = state_, acceptor] {
            boost::system::error_code ignored;
            acceptor->close(ignored);
        });
    }
}

size_t Gateway::requests_in_progress() const {
    return state_->router->requests_in_progress() +
           (state_->metrics_router ? state_->metrics_router->requests_in_progress() : 0);
}

}  // namespace sofaas
