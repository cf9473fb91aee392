/* A reference for the warm-path benchmark: the least a gateway with one process hand-off
 * per request can cost on this machine. Like sofaasd it answers HTTP/1.1 keep-alive
 * requests on loopback and hands each one to a worker process over a socketpair, waiting
 * for the worker's answer before it responds; unlike sofaasd it parses nothing beyond the
 * end of the head, has no JSON, no ledger, no deadline, no function, and no library code
 * between epoll and the sockets. One thread per core, each with its own epoll and its own
 * SO_REUSEPORT listener; each connection gets its own worker when it first sends a request.
 * With LEDGER_FILE it also does the one thing the design requires of every call besides
 * the hand-off: a billing line written (write(2), O_APPEND) before the response, with a
 * thread that fdatasyncs the file every 5 ms, as sofaasd's ledger does.
 * Prints "listening PORT" and serves until SIGTERM.
 *   gateway-floor [THREADS=2] [LEDGER_FILE] */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";

struct connection {
    int client;      /* the HTTP connection */
    int worker;      /* our end of the worker's socketpair; -1 until the first request */
    char tag_client; /* epoll data points at one of these two tags */
    char tag_worker;
};

static int listen_port = 0;
static int ledger = -1;
/* About the size of a sofaas billing record. */
static const char record[] =
    "{\"request_id\":\"0123456789abcdef0123456789abcdef\",\"function\":\"hello\",\"version\":1,"
    "\"trigger\":\"http\",\"start\":\"2026-11-28T03:00:00.000000Z\",\"end\":\"2026-11-28T03:00:00.000042Z\","
    "\"duration_ms\":0.042,\"billed_ms\":1,\"memory_mb\":128,\"max_memory_used_mb\":2,\"init_ms\":0,"
    "\"status\":\"success\",\"cost\":0.0000000021,\"tenant\":\"default\"}\n";

static void* sync_ledger(void* unused) {
    (void)unused;
    for (;;) {
        usleep(5000);
        fdatasync(ledger);
    }
    return NULL;
}

static int open_listener(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr*)&address, sizeof address) != 0 || listen(fd, 1024) != 0) {
        perror("listen");
        exit(1);
    }
    socklen_t length = sizeof address;
    getsockname(fd, (struct sockaddr*)&address, &length);
    listen_port = ntohs(address.sin_port);
    return fd;
}

static int start_worker(void) {
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
    if (fork() == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Only its own socket: a copy of another worker's would keep that worker alive. */
        dup2(pair[1], 3);
        close_range(4, ~0U, 0);
        char event[64];
        while (recv(3, event, sizeof event, 0) > 0) send(3, event, sizeof event, 0);
        _exit(0);
    }
    close(pair[1]);
    return pair[0];
}

/* The connection is freed after the batch of events: a later event of the same batch may
 * still point at it. */
static void close_connection(int epoll, struct connection* c, struct connection** closed, int* closed_count) {
    if (c->client < 0) return;
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->client, NULL);
    close(c->client);
    c->client = -1;
    if (c->worker >= 0) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, c->worker, NULL);
        close(c->worker); /* the worker's recv returns 0 and it exits */
    }
    closed[(*closed_count)++] = c;
}

static void* serve(void* listener_fd) {
    const int listener = (int)(long)listener_fd;
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &e);
    struct epoll_event ready[64];
    char buffer[4096];
    for (;;) {
        const int n = epoll_wait(epoll, ready, 64, -1);
        struct connection* closed[64];
        int closed_count = 0;
        for (int i = 0; i < n; ++i) {
            char* tag = ready[i].data.ptr;
            if (tag == NULL) {
                const int client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (client < 0) continue;
                struct connection* c = calloc(1, sizeof *c);
                c->client = client;
                c->worker = -1;
                struct epoll_event ce = {.events = EPOLLIN, .data.ptr = &c->tag_client};
                epoll_ctl(epoll, EPOLL_CTL_ADD, client, &ce);
                continue;
            }
            const int from_worker = *tag;
            struct connection* c = (struct connection*)(tag - (from_worker ? offsetof(struct connection, tag_worker)
                                                                           : offsetof(struct connection, tag_client)));
            if (c->client < 0) continue;
            if (from_worker) {
                if (recv(c->worker, buffer, 64, 0) <= 0) {
                    close_connection(epoll, c, closed, &closed_count);
                    continue;
                }
                if (ledger >= 0 && write(ledger, record, sizeof record - 1) < 0) perror("ledger");
                send(c->client, response, sizeof response - 1, MSG_NOSIGNAL);
                continue;
            }
            /* wrk sends one small request at a time on each connection: one read holds it. */
            const ssize_t got = recv(c->client, buffer, sizeof buffer, 0);
            if (got <= 0 || memmem(buffer, got, "\r\n\r\n", 4) == NULL) {
                close_connection(epoll, c, closed, &closed_count);
                continue;
            }
            if (c->worker < 0) {
                c->worker = start_worker();
                c->tag_worker = 1;
                struct epoll_event we = {.events = EPOLLIN, .data.ptr = &c->tag_worker};
                epoll_ctl(epoll, EPOLL_CTL_ADD, c->worker, &we);
            }
            send(c->worker, buffer, 64, 0);
        }
        for (int i = 0; i < closed_count; ++i) free(closed[i]);
    }
    return NULL;
}

int main(int argc, char** argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* workers that exit are reaped by the kernel */
    int listeners[64];
    listeners[0] = open_listener(0);
    for (int i = 1; i < threads && i < 64; ++i) listeners[i] = open_listener(listen_port);
    pthread_t thread;
    if (argc > 2) {
        ledger = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (ledger < 0) {
            perror(argv[2]);
            return 1;
        }
        pthread_create(&thread, NULL, sync_ledger, NULL);
    }
    printf("listening %d\n", listen_port);
    fflush(stdout);
    for (int i = 1; i < threads && i < 64; ++i) pthread_create(&thread, NULL, serve, (void*)(long)listeners[i]);
    serve((void*)(long)listeners[0]);
    return 0;
}
