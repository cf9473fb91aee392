// A loopback port where nothing listens, for as long as this object lives: the port is
// bound (so no one else can take it) but never listened on, so connecting is refused.
#pragma once

namespace sofaas::testing {

class UnusedPort {
public:
    UnusedPort();
    ~UnusedPort();
    UnusedPort(const UnusedPort&) = delete;
    UnusedPort& operator=(const UnusedPort&) = delete;

    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

}  // namespace sofaas::testing
