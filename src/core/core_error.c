/*
 * core_error.c — filling and formatting csvavro_error.
 *
 * Errors travel up through return values; each layer may add context with cav_err_prefix.
 * Values copied into an error are made printable so that a one-line message never carries
 * control bytes or broken UTF-8 to a terminal.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void csvavro_error_clear(csvavro_error *e) {
    if (!e) return;
    e->status = CSVAVRO_OK;
    e->path[0] = '\0';
    e->offset = -1;
    e->line = -1;
    e->record = -1;
    e->column = -1;
    e->column_name[0] = '\0';
    e->value[0] = '\0';
    e->message[0] = '\0';
}

static const char *const status_names[] = {
    "CSVAVRO_OK",
    "CSVAVRO_E_USAGE",
    "CSVAVRO_E_NOMEM",
    "CSVAVRO_E_IO",
    "CSVAVRO_E_NOT_FOUND",
    "CSVAVRO_E_EXISTS",
    "CSVAVRO_E_CSV",
    "CSVAVRO_E_VALUE",
    "CSVAVRO_E_SCHEMA",
    "CSVAVRO_E_EXPR",
    "CSVAVRO_E_CORRUPT",
    "CSVAVRO_E_LIMIT",
    "CSVAVRO_E_PROTOCOL",
    "CSVAVRO_E_REMOTE",
    "CSVAVRO_E_PERMISSION",
    "CSVAVRO_E_INTERRUPTED",
    "CSVAVRO_E_UNSUPPORTED",
    "CSVAVRO_E_TIMEOUT",
    "CSVAVRO_E_ENCODING",
    "CSVAVRO_E_NOT_EMPTY",
    "CSVAVRO_E_INTERNAL",
    "CSVAVRO_E_CONNECT",
};

const char *csvavro_status_name(csvavro_status s) {
    if ((unsigned)s < CAV_ARRAY_LEN(status_names)) return status_names[s];
    return "CSVAVRO_E_UNKNOWN";
}

csvavro_status cav_verr(csvavro_error *e, csvavro_status status, const char *fmt, va_list ap) {
    if (e) {
        e->status = status;
        vsnprintf(e->message, sizeof e->message, fmt, ap);
    }
    return status;
}

csvavro_status cav_err(csvavro_error *e, csvavro_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cav_verr(e, status, fmt, ap);
    va_end(ap);
    return status;
}

void cav_err_prefix(csvavro_error *e, const char *fmt, ...) {
    if (!e) return;
    char head[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    char old[sizeof e->message];
    memcpy(old, e->message, sizeof old);
    snprintf(e->message, sizeof e->message, "%s: %s", head, old);
}

static void copy_printable(char *dst, size_t cap, const char *src, size_t len) {
    size_t o = 0;
    size_t valid = cav_utf8_check((const uint8_t *)src, len);
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c < 0x20 || c == 0x7f || (i >= valid && c >= 0x80)) {
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02X", c);
        } else {
            dst[o++] = (char)c;
        }
    }
    if (o >= cap) o = cap - 1;
    dst[o] = '\0';
}

void cav_err_path(csvavro_error *e, const char *path) {
    if (!e || !path) return;
    snprintf(e->path, sizeof e->path, "%s", path);
}

void cav_err_value(csvavro_error *e, const char *value, size_t len) {
    if (!e || !value) return;
    copy_printable(e->value, sizeof e->value, value, len);
}

void cav_err_column(csvavro_error *e, int32_t column, const char *name) {
    if (!e) return;
    e->column = column;
    if (name) snprintf(e->column_name, sizeof e->column_name, "%s", name);
}

csvavro_status cav_err_errno(csvavro_error *e, int errnum, const char *path, const char *what) {
    csvavro_status st = CSVAVRO_E_IO;
    if (errnum == ENOENT || errnum == ENOTDIR)
        st = CSVAVRO_E_NOT_FOUND;
    else if (errnum == EEXIST)
        st = CSVAVRO_E_EXISTS;
    else if (errnum == EACCES || errnum == EPERM)
        st = CSVAVRO_E_PERMISSION;
    else if (errnum == ENOMEM)
        st = CSVAVRO_E_NOMEM;
    else if (errnum == ENOTEMPTY)
        st = CSVAVRO_E_NOT_EMPTY;
    else if (errnum == EINTR)
        st = CSVAVRO_E_INTERRUPTED;
    cav_err_path(e, path);
    return cav_err(e, st, "%s: %s", what, strerror(errnum));
}

size_t csvavro_error_format(const csvavro_error *e, char *buf, size_t cap) {
    char loc[1400] = "";
    size_t n = 0;
    if (!e) return (size_t)snprintf(buf, cap, "(no error)");
    if (e->path[0]) {
        n += (size_t)snprintf(loc + n, sizeof loc - n, "%s", e->path);
        if (e->line > 0)
            n += (size_t)snprintf(loc + n, sizeof loc - n, ":%lld", (long long)e->line);
        n += (size_t)snprintf(loc + n, sizeof loc - n, ": ");
    }
    int any = 0;
    if (e->status == CSVAVRO_E_EXPR && !e->path[0] && e->offset >= 0) {
        /* a --where error: offset counts characters of the expression, not bytes of data */
        n += (size_t)snprintf(loc, sizeof loc,
                              "--where expression, at column %lld: ", (long long)e->offset + 1);
        const char *msg = e->message[0] ? e->message : csvavro_status_name(e->status);
        return (size_t)snprintf(buf, cap, "%s%s", loc, msg);
    }
    if (e->record > 0 && n < sizeof loc) {
        n += (size_t)snprintf(loc + n, sizeof loc - n, "record %lld", (long long)e->record);
        any = 1;
    }
    if (e->offset >= 0 && n < sizeof loc) {
        n += (size_t)snprintf(loc + n, sizeof loc - n, "%sbyte %lld", any ? ", " : "",
                              (long long)e->offset);
        any = 1;
    }
    if (e->column >= 0 && n < sizeof loc) {
        if (e->column_name[0])
            n += (size_t)snprintf(loc + n, sizeof loc - n, "%scolumn %d (%s)", any ? ", " : "",
                                  (int)e->column + 1, e->column_name);
        else
            n += (size_t)snprintf(loc + n, sizeof loc - n, "%scolumn %d", any ? ", " : "",
                                  (int)e->column + 1);
        any = 1;
    }
    if (any && n < sizeof loc) n += (size_t)snprintf(loc + n, sizeof loc - n, ": ");
    const char *msg = e->message[0] ? e->message : csvavro_status_name(e->status);
    if (e->value[0] && !strstr(msg, e->value))
        return (size_t)snprintf(buf, cap, "%s%s (value \"%s\")", loc, msg, e->value);
    return (size_t)snprintf(buf, cap, "%s%s", loc, msg);
}
