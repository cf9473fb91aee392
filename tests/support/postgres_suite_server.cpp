// The ctest fixture of the suite's PostgreSQL server (support/postgres_server.h):
// `postgres_suite_server start DIR` before the tests, `postgres_suite_server stop DIR` after.
#include <cstring>
#include <exception>
#include <iostream>

#include "support/postgres_server.h"

int main(int argc, char** argv) {
    if (argc != 3 || (std::strcmp(argv[1], "start") != 0 && std::strcmp(argv[1], "stop") != 0)) {
        std::cerr << "usage: postgres_suite_server start|stop DIRECTORY\n";
        return 2;
    }
    try {
        if (std::strcmp(argv[1], "start") == 0) {
            sofaas::testing::PostgresServer::start_suite_server(argv[2]);
        } else {
            sofaas::testing::PostgresServer::stop_suite_server(argv[2]);
        }
    } catch (const std::exception& error) {
        std::cerr << "postgres_suite_server " << argv[1] << ": " << error.what() << "\n";
        return 1;
    }
    return 0;
}
