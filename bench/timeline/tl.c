/*
 * tl.c — runs a command and prints "TL <ms> fork" before it starts and "TL <ms> reaped" once it
 * has been waited for, on CLOCK_MONOTONIC (milliseconds modulo 10^5 s, the clock csvavro's
 * timeline patch prints), so that a run's start-up and teardown show next to its own events.
 *
 *     cc -O2 -o tl bench/timeline/tl.c && TL=1 ./tl build/csvavro convert in.csv out.avro -q
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return (double)(ns % 100000000000ull) / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tl COMMAND [ARG...]\n");
        return 2;
    }
    fprintf(stderr, "TL %.1f fork\n", now_ms());
    pid_t pid = fork();
    if (pid < 0) {
        perror("tl: fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("tl: exec");
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0) {
        perror("tl: waitpid");
        return 1;
    }
    fprintf(stderr, "TL %.1f reaped\n", now_ms());
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
