/* A reference for the cold-start benchmark: what the machine itself takes to start a
 * process and hear from it, the least any cold start contains. SAMPLES times, spaced as
 * the cold-start calls are (one at a time, a quiet machine in between): fork a child that
 * writes one byte to a pipe and exits, and time fork() to that byte. No exec, no dlopen,
 * no sandbox, no HTTP. Prints the p50, p99 and maximum in milliseconds as "key value" lines.
 *   fork-floor [SAMPLES=200] [PAUSE_MS=2] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Nearest rank over sorted values, as sofaas-bench computes its percentiles. */
static double percentile(const double* sorted, int count, double p) {
    const int index = (int)(p / 100.0 * (count - 1) + 0.5);
    return sorted[index < count ? index : count - 1];
}

static int by_value(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    const int samples = argc > 1 ? atoi(argv[1]) : 200;
    const int pause_ms = argc > 2 ? atoi(argv[2]) : 2;
    if (samples < 1) return 2;
    double* took = calloc(samples, sizeof *took);
    for (int i = 0; i < samples; ++i) {
        int pipe_fds[2];
        if (pipe(pipe_fds) != 0) return 1;
        const double start = now_ms();
        const pid_t child = fork();
        if (child < 0) return 1;
        if (child == 0) {
            const char byte = 1;
            _exit(write(pipe_fds[1], &byte, 1) == 1 ? 0 : 1);
        }
        char byte;
        if (read(pipe_fds[0], &byte, 1) != 1) return 1;
        took[i] = now_ms() - start;
        waitpid(child, NULL, 0);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        usleep(pause_ms * 1000);
    }
    qsort(took, samples, sizeof *took, by_value);
    printf("fork_p50_ms %.3f\nfork_p99_ms %.3f\nfork_max_ms %.3f\n", percentile(took, samples, 50),
           percentile(took, samples, 99), took[samples - 1]);
    return 0;
}
