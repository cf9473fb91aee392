/* A reference for the warm-path benchmark: what one process hand-off per request costs on
 * this machine by itself. A dispatcher (one thread, epoll) keeps N worker processes busy,
 * each answering 64-byte events over its own socketpair, as sofaasd does with its
 * workers, but with no HTTP, no JSON, no ledger and no function. Prints round trips per
 * second and CPU microseconds per round trip (dispatcher, workers) as "key value" lines.
 *   handoff-floor [WORKERS=32] [SECONDS=5] */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_us(int who) {
    struct rusage u;
    getrusage(who, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

int main(int argc, char** argv) {
    const int workers = argc > 1 ? atoi(argv[1]) : 32;
    const double seconds = argc > 2 ? atof(argv[2]) : 5;
    int* fds = calloc(workers, sizeof *fds);
    pid_t* pids = calloc(workers, sizeof *pids);
    for (int i = 0; i < workers; ++i) {
        int pair[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
        pids[i] = fork();
        if (pids[i] == 0) {
            close(pair[0]);
            char buffer[64];
            while (recv(pair[1], buffer, sizeof buffer, 0) > 0) send(pair[1], buffer, sizeof buffer, 0);
            _exit(0);
        }
        close(pair[1]);
        fds[i] = pair[0];
    }
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < workers; ++i) {
        struct epoll_event e = {.events = EPOLLIN, .data.fd = fds[i]};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &e);
    }
    char event[64] = {0};
    for (int i = 0; i < workers; ++i) send(fds[i], event, sizeof event, 0);
    const double start = now();
    const double self0 = cpu_us(RUSAGE_SELF);
    long round_trips = 0;
    struct epoll_event ready[64];
    while (now() - start < seconds) {
        const int n = epoll_wait(epoll, ready, 64, -1);
        for (int i = 0; i < n; ++i) {
            recv(ready[i].data.fd, event, sizeof event, 0);
            send(ready[i].data.fd, event, sizeof event, 0);
            ++round_trips;
        }
    }
    const double elapsed = now() - start;
    const double self_us = cpu_us(RUSAGE_SELF) - self0;
    for (int i = 0; i < workers; ++i) close(fds[i]);
    for (int i = 0; i < workers; ++i) waitpid(pids[i], NULL, 0);
    const double children_us = cpu_us(RUSAGE_CHILDREN);
    printf("floor_rps %.0f\nfloor_dispatcher_us %.1f\nfloor_workers_us %.1f\n", round_trips / elapsed,
           self_us / round_trips, children_us / round_trips);
    return 0;
}
