// What every request handler may use: the daemon's services and the routes in force.
#pragma once

#include <atomic>
#include <cstddef>

#include <boost/asio/thread_pool.hpp>

#include "gateway/gateway.h"
#include "gateway/invocation_replay.h"
#include "gateway/log_follow.h"
#include "gateway/route_table.h"

namespace sofaas {

// Deploy bodies are shared libraries, larger than any event.
inline constexpr size_t max_library_bytes = 64 * 1024 * 1024;

struct HandlerContext {
    GatewayServices services;
    LiveRouteTable routes;
    // For work that blocks on the disk (a deploy writes, hashes and fsyncs up to 64 MiB):
    // run there (run_blocking, awaitable_calls.h), the io thread goes on serving the other
    // connections. One thread: deploys are rare, and the registry orders them anyway.
    boost::asio::thread_pool disk_work{1};
    // Reads of site files (site_serving.h), apart from disk_work so that a deploy's
    // fsyncs never hold up a page. Two: one slow read does not stop the other files.
    boost::asio::thread_pool file_reads{2};
    // Password hashing (argon2id, ~0.1 s and 64 MiB each) for sign-up, sign-in and users
    // added by an admin: one at a time, so memory stays bounded and the io threads serve
    // on; the calls waiting for it are counted, and refused past a limit.
    boost::asio::thread_pool password_work{1};
    std::atomic<int> password_calls_waiting{0};
    // The Lambda API's invocations by amz-sdk-invocation-id: a retried Invoke runs once.
    InvocationReplay invocations;
    // The open `logs?follow=1` streams.
    LogFollowers followers{services.config.logs.max_followers};

    // After a deploy or delete: the next request sees the new routes.
    void refresh_routes();
};

}  // namespace sofaas
