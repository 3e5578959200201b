/*
 * exec_progress.c — progress on stderr (bar, plain lines, JSON lines) and the end-of-run
 * summary, plus the user callback. Called only from the thread that runs csvavro_job_execute,
 * with counters sampled from relaxed atomics (see exec.h).
 */
#include "exec.h"

#include <stdio.h>
#include <unistd.h>

static void human_bytes(double b, char *out, size_t cap) {
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int k = 0;
    while (b >= 1000 && k < 4) {
        b /= 1000;
        k++;
    }
    snprintf(out, cap, k ? "%.1f %s" : "%.0f %s", b, u[k]);
}

static void summary(const csvavro_job *j, const csvavro_job_stats *s) {
    char in[32], out[32];
    human_bytes((double)s->bytes_read, in, sizeof in);
    human_bytes((double)s->bytes_written, out, sizeof out);
    double mbs = s->elapsed_s > 0 ? (double)s->bytes_read / 1e6 / s->elapsed_s : 0;
    fprintf(
        stderr,
        "csvavro convert: done: %llu input%s (%s), %llu split%s (%llu re-run), "
        "rows read %llu, kept %llu, rejected %llu; %llu file%s, %s written; %.2f s, %.1f MB/s\n",
        (unsigned long long)s->inputs, s->inputs == 1 ? "" : "s", in, (unsigned long long)s->splits,
        s->splits == 1 ? "" : "s", (unsigned long long)s->splits_rerun,
        (unsigned long long)s->rows_read, (unsigned long long)s->rows_kept,
        (unsigned long long)s->rows_rejected, (unsigned long long)s->files_written,
        s->files_written == 1 ? "" : "s", out, s->elapsed_s, mbs);
    (void)j;
}

void cav_job_progress(csvavro_job *j, const csvavro_job_stats *s, bool final) {
    if (j->o.progress_fn) j->o.progress_fn(s, final ? 1 : 0, j->o.progress_user);
    csvavro_progress_mode m = j->o.progress;
    if (m == CSVAVRO_PROGRESS_NONE) return;
    if (m == CSVAVRO_PROGRESS_AUTO) m = isatty(2) ? CSVAVRO_PROGRESS_BAR : CSVAVRO_PROGRESS_LINES;
    double mbs = s->elapsed_s > 0 ? (double)s->bytes_read / 1e6 / s->elapsed_s : 0;
    double frac = s->bytes_total ? (double)s->bytes_read / (double)s->bytes_total : 1;
    if (frac > 1) frac = 1;
    double eta = mbs > 0 ? ((double)s->bytes_total - (double)s->bytes_read) / 1e6 / mbs : 0;
    if (eta < 0) eta = 0;
    if (m == CSVAVRO_PROGRESS_JSON) {
        fprintf(stderr,
                "{\"event\":\"%s\",\"bytes_read\":%llu,\"bytes_total\":%llu,\"rows_read\":%llu,"
                "\"rows_kept\":%llu,\"rows_rejected\":%llu,\"splits\":%llu,\"splits_done\":%llu,"
                "\"files\":%llu,\"bytes_written\":%llu,\"elapsed_s\":%.3f,\"mb_per_s\":%.1f}\n",
                final ? "done" : "progress", (unsigned long long)s->bytes_read,
                (unsigned long long)s->bytes_total, (unsigned long long)s->rows_read,
                (unsigned long long)s->rows_kept, (unsigned long long)s->rows_rejected,
                (unsigned long long)s->splits, (unsigned long long)s->splits_done,
                (unsigned long long)s->files_written, (unsigned long long)s->bytes_written,
                s->elapsed_s, mbs);
        if (final && j->dist && j->dist->summary) j->dist->summary(j->dist, j, true);
        fflush(stderr);
        return;
    }
    if (final) {
        if (m == CSVAVRO_PROGRESS_BAR) fprintf(stderr, "\r\033[K");
        summary(j, s);
        if (j->dist && j->dist->summary) j->dist->summary(j->dist, j, false);
        return;
    }
    char done[32], total[32];
    human_bytes((double)s->bytes_read, done, sizeof done);
    human_bytes((double)s->bytes_total, total, sizeof total);
    if (m == CSVAVRO_PROGRESS_BAR) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr,
                "\r\033[K[%s] %3.0f%% %s / %s  rows %llu read, %llu kept  %.0f MB/s  ETA %.0fs",
                bar, frac * 100, done, total, (unsigned long long)s->rows_read,
                (unsigned long long)s->rows_kept, mbs, eta);
    } else {
        fprintf(stderr,
                "csvavro convert: %3.0f%% %s / %s, splits %llu/%llu, rows read %llu, kept %llu, "
                "%.0f MB/s, ETA %.0f s\n",
                frac * 100, done, total, (unsigned long long)s->splits_done,
                (unsigned long long)s->splits, (unsigned long long)s->rows_read,
                (unsigned long long)s->rows_kept, mbs, eta);
    }
    fflush(stderr);
}
