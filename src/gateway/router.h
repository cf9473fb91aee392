// From a parsed request to its response: /healthz, the dashboard, the control API,
// function endpoints.
// Never throws: whatever goes wrong inside a handler becomes a logged 500.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "gateway/cors.h"
#include "gateway/dashboard_assets.h"
#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

// What a listener serves.
enum class RouterRole {
    everything,    // the main listener
    metrics_only,  // metrics_listen: GET /metrics without credentials, nothing else
};

class Router {
public:
    explicit Router(GatewayServices services, RouterRole role = RouterRole::everything);

    // Held by a connection from the moment a request is read until its response is
    // written: shutdown waits for these, not only for the handlers.
    class RequestInProgress {
    public:
        explicit RequestInProgress(std::atomic<size_t>& count) : count_(&count) { ++*count_; }
        ~RequestInProgress() { --*count_; }
        RequestInProgress(const RequestInProgress&) = delete;
        RequestInProgress& operator=(const RequestInProgress&) = delete;

    private:
        std::atomic<size_t>* count_;
    };
    [[nodiscard]] RequestInProgress track_request() { return RequestInProgress(in_progress_); }

    boost::asio::awaitable<HttpResponseParts> handle(IncomingRequest request);

    // Before a body is asked for (Expect: 100-continue): the refusal a request without a
    // credential that could be admitted gets anyway, so that no body is uploaded for it.
    std::optional<HttpResponseParts> refusal_before_body(std::string_view method, std::string_view target,
                                                         std::optional<std::string_view> authorization) const;

    // The registry changed outside a request (another node of a cluster changed it).
    void refresh_routes() { context_.refresh_routes(); }

    const Config& config() const { return context_.services.config; }
    const Limits& limits() const { return context_.services.config.limits; }
    size_t requests_in_progress() const { return in_progress_.load(); }

    // Shutting down: connections close after their current response instead of waiting
    // for another request, and log streams end.
    void begin_draining() {
        draining_ = true;
        context_.followers.end_all("the daemon is stopping");
    }
    bool draining() const { return draining_.load(); }

private:
    boost::asio::awaitable<HttpResponseParts> dispatch(const IncomingRequest& request);

    HandlerContext context_;
    const RouterRole role_;
    DashboardAssets dashboard_;
    CorsPolicy cors_;
    std::atomic<size_t> in_progress_{0};
    std::atomic<bool> draining_{false};
};

}  // namespace sofaas
