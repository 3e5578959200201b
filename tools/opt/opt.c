/*
 * opt.c — parser, --help and man-page writer over the option tables of opt.h.
 *
 * Names are matched by walking the ", "-separated list of each entry; tables are small (at most
 * a few dozen entries), so a linear search per argument costs nothing next to the work of a
 * command. -h and --help are answered here for every command.
 */
#include "opt.h"

#include <stdarg.h>
#include <string.h>

#define HELP_COLUMN 24

static const opt_spec help_spec = {-1, "-h, --help", NULL, "show this help and exit", NULL};

/* 1 if name[0..n) is one of the ", "-separated names. */
static int has_name(const char *names, const char *name, size_t n) {
    const char *p = names;
    while (p && *p) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, name, n) == 0) return 1;
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

static const opt_spec *find(const opt_cmd *cmd, const char *name, size_t n) {
    for (const opt_spec *const *t = cmd->tables; t && *t; t++)
        for (const opt_spec *o = *t; o->id || o->help; o++)
            if (o->id > 0 && has_name(o->names, name, n)) return o;
    if (has_name(help_spec.names, name, n)) return &help_spec;
    return NULL;
}

void opt_init(opt_parser *p, const opt_cmd *cmd, int argc, char **argv) {
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->argc = argc;
    p->argv = argv;
    p->i = 1;
}

int opt_usage_error(const opt_cmd *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", cmd->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun '%s --help' for usage.\n", cmd->prog);
    return 2;
}

/* Found option o (named p->name): takes its value from inline (may be NULL) or the next
 * argument. */
static int take(opt_parser *p, const opt_spec *o, const char *inl, const char **val) {
    if (o == &help_spec) {
        if (inl) return opt_usage_error(p->cmd, "%s takes no value", p->name), OPT_ERROR;
        opt_help(p->cmd, stdout);
        return OPT_HELP;
    }
    if (!o->arg) {
        if (inl) return opt_usage_error(p->cmd, "%s takes no value", p->name), OPT_ERROR;
        return o->id;
    }
    if (inl) {
        *val = inl;
        return o->id;
    }
    if (p->i >= p->argc)
        return opt_usage_error(p->cmd, "%s needs a value (%s)", p->name, o->arg), OPT_ERROR;
    *val = p->argv[p->i++];
    return o->id;
}

/* The next short option of the group in p->cluster. */
static int next_short(opt_parser *p, const char **val) {
    char c = *p->cluster++;
    snprintf(p->name, sizeof p->name, "-%c", c);
    const opt_spec *o = find(p->cmd, p->name, 2);
    if (!o) {
        p->cluster = NULL;
        return opt_usage_error(p->cmd, "unknown option '%s'", p->name), OPT_ERROR;
    }
    if (o->arg && *p->cluster) { /* -j4 or -j=4 */
        const char *v = p->cluster + (*p->cluster == '=');
        p->cluster = NULL;
        return take(p, o, v, val);
    }
    if (!o->arg && *p->cluster == '=') {
        p->cluster = NULL;
        return opt_usage_error(p->cmd, "%s takes no value", p->name), OPT_ERROR;
    }
    if (!*p->cluster) p->cluster = NULL;
    return take(p, o, NULL, val);
}

int opt_next(opt_parser *p, const char **val) {
    *val = NULL;
    if (p->cluster) return next_short(p, val);
    if (p->i >= p->argc) return OPT_DONE;
    const char *a = p->argv[p->i++];
    if (p->operands_only || a[0] != '-' || a[1] == '\0') {
        if (p->cmd->flags & OPT_OPERANDS_END) p->operands_only = 1;
        *val = a;
        return OPT_OPERAND;
    }
    if (strcmp(a, "--") == 0) {
        p->operands_only = 1;
        return opt_next(p, val);
    }
    if (a[1] != '-') {
        p->cluster = a + 1;
        return next_short(p, val);
    }
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    snprintf(p->name, sizeof p->name, "%.*s", (int)n, a);
    const opt_spec *o = find(p->cmd, a, n);
    if (!o) return opt_usage_error(p->cmd, "unknown option '%s'", p->name), OPT_ERROR;
    return take(p, o, eq ? eq + 1 : NULL, val);
}

/* ------------------------------------------------------------------ --help */

/* "  LEFT   text", text lines after the first indented to the help column. */
static void help_line(FILE *f, const char *left, const char *text) {
    int w = fprintf(f, "  %s", left);
    if (w >= HELP_COLUMN) {
        fputc('\n', f);
        w = 0;
    }
    for (const char *t = text; t && *t;) {
        size_t len = strcspn(t, "\n");
        fprintf(f, "%*s%.*s\n", HELP_COLUMN - w, "", (int)len, t);
        w = 0;
        t += len;
        if (*t) t++;
    }
    if (!text || !*text) fputc('\n', f);
}

static void help_option(FILE *f, const opt_spec *o) {
    char left[128];
    snprintf(left, sizeof left, "%s%s%s", o->names, o->arg ? " " : "", o->arg ? o->arg : "");
    help_line(f, left, o->help);
}

/* The last word of prog ("ls" of "csvavro fs ls"). */
static const char *last_word(const char *prog) {
    const char *s = strrchr(prog, ' ');
    return s ? s + 1 : prog;
}

void opt_help(const opt_cmd *cmd, FILE *f) {
    fprintf(f, "usage: %s %s\n", cmd->prog, cmd->synopsis);
    if (cmd->help)
        fprintf(f, "\n%s\n", cmd->help);
    else if (cmd->summary)
        fprintf(f, "\n%s.\n", cmd->summary);
    if (cmd->subs) {
        fprintf(f, "\nCommands:\n");
        for (const opt_cmd *const *s = cmd->subs; *s; s++) {
            /* "name synopsis" when it fits the column, else the name alone */
            char left[128];
            int w = snprintf(left, sizeof left, "%s %s", last_word((*s)->prog), (*s)->synopsis);
            if (w + 2 >= HELP_COLUMN) snprintf(left, sizeof left, "%s", last_word((*s)->prog));
            help_line(f, left, (*s)->summary);
        }
    }
    int first = 1;
    for (const opt_spec *const *t = cmd->tables; t && *t; t++) {
        for (const opt_spec *o = *t; o->id || o->help; o++) {
            if (o->id == 0) {
                fprintf(f, "\n%s:\n", o->help);
            } else {
                if (first && o == *t) fprintf(f, "\nOptions:\n");
                help_option(f, o);
            }
            first = 0;
        }
    }
    if (first) fprintf(f, "\nOptions:\n");
    help_option(f, &help_spec);
    if (cmd->subs)
        fprintf(f, "\nRun '%s COMMAND --help' for the options of a command.\n", cmd->prog);
}

/* ------------------------------------------------------------------ man page */

/* Escapes one line of text for roff (no leading-dot handling). */
static void man_escape(FILE *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\')
            fputs("\\e", f);
        else if (c == '-')
            fputs("\\-", f);
        else
            fputc(c, f);
    }
}

/* text as body text; blank lines start a paragraph with `para` (".PP", ".IP"), lines indented
 * by two spaces are kept as they are (no fill). */
static void man_body(const char *text, const char *para, FILE *f) {
    int literal = 0;
    for (const char *t = text; t && *t;) {
        size_t len = strcspn(t, "\n");
        int lit = len >= 2 && t[0] == ' ' && t[1] == ' ';
        if (lit && !literal) fputs(".nf\n", f);
        if (!lit && literal) fputs(".fi\n", f);
        literal = lit;
        if (len == 0) {
            fprintf(f, "%s\n", para);
        } else {
            const char *s = t;
            size_t n = len;
            if (!lit)
                while (n && *s == ' ')
                    s++, n--;
            if (*s == '.' || *s == '\'' || lit) fputs("\\&", f);
            man_escape(f, s, n);
            fputc('\n', f);
        }
        t += len;
        if (*t) t++;
    }
    if (literal) fputs(".fi\n", f);
}

void opt_man_text(const char *text, FILE *f) {
    man_body(text, ".PP", f);
}

/* Text of a help line for the man page: lines joined, a final period. */
static void man_sentence(FILE *f, const char *help) {
    char buf[1024];
    size_t n = 0;
    for (const char *s = help; *s && n + 2 < sizeof buf; s++)
        buf[n++] = *s == '\n' ? ' ' : *s;
    if (n && buf[n - 1] != '.' && buf[n - 1] != ')' && buf[n - 1] != ':')
        buf[n++] = '.';
    else if (n && buf[n - 1] == ')')
        buf[n++] = '.';
    buf[n] = '\0';
    man_body(buf, ".IP", f);
}

static void man_option(FILE *f, const opt_spec *o) {
    fputs(".TP\n", f);
    const char *p = o->names;
    int k = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        fputs(k++ ? ", \\fB" : "\\fB", f);
        man_escape(f, p, len);
        fputs("\\fR", f);
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (o->arg) {
        fputs(" \\fI", f);
        man_escape(f, o->arg, strlen(o->arg));
        fputs("\\fR", f);
    }
    fputc('\n', f);
    man_sentence(f, o->help);
    if (o->man) {
        fputs(".IP\n", f);
        man_body(o->man, ".IP", f);
    }
}

/* A table that opens with a heading and is shared by several commands (the CSV options) is
 * written out under the first one; later ones name its options and point there. Returns 1 if
 * t was written before. */
static int man_shared(const opt_spec *t, const opt_cmd *cmd, FILE *f) {
    if (t->id != 0) return 0;
    static struct {
        const opt_spec *table;
        const char *prog;
    } seen[32];
    static size_t n_seen;
    size_t k = 0;
    while (k < n_seen && seen[k].table != t)
        k++;
    if (k == n_seen) {
        if (n_seen < sizeof seen / sizeof seen[0]) {
            seen[n_seen].table = t;
            seen[n_seen++].prog = cmd->prog;
        }
        return 0;
    }
    fputs(".PP\nAnd the options of ", f);
    man_escape(f, seen[k].prog, strlen(seen[k].prog));
    fputs(" (above):", f);
    int first = 1;
    for (const opt_spec *o = t; o->id || o->help; o++) {
        if (o->id == 0) continue;
        fputs(first ? "\n\\fB\\%" : ",\n\\fB\\%", f);
        first = 0;
        man_escape(f, o->names, strlen(o->names));
        fputs("\\fR", f);
    }
    fputs(".\n", f);
    return 1;
}

static void man_description(const opt_cmd *cmd, FILE *f) {
    if (cmd->help)
        man_body(cmd->help, ".PP", f);
    else if (cmd->summary)
        man_sentence(f, cmd->summary);
    if (cmd->man) {
        fputs(".PP\n", f);
        man_body(cmd->man, ".PP", f);
    }
}

void opt_man_options(const opt_cmd *cmd, FILE *f) {
    for (const opt_spec *const *t = cmd->tables; t && *t; t++) {
        if (man_shared(*t, cmd, f)) continue;
        for (const opt_spec *o = *t; o->id || o->help; o++) {
            if (o->id == 0) {
                fputs(".PP\n.I \"", f);
                man_escape(f, o->help, strlen(o->help));
                fputs("\"\n", f);
            } else {
                man_option(f, o);
            }
        }
    }
}

void opt_man(const opt_cmd *cmd, FILE *f) {
    fputs(".SS \"", f);
    man_escape(f, cmd->prog, strlen(cmd->prog));
    fputs("\"\n.B ", f);
    man_escape(f, cmd->prog, strlen(cmd->prog));
    fputc('\n', f);
    man_escape(f, cmd->synopsis, strlen(cmd->synopsis));
    fputs("\n.PP\n", f);
    man_description(cmd, f);
    opt_man_options(cmd, f);
    for (const opt_cmd *const *s = cmd->subs; s && *s; s++)
        opt_man(*s, f);
}

void opt_man_page(const opt_cmd *cmd, FILE *f) {
    fputs(".SH DESCRIPTION\n", f);
    man_description(cmd, f);
    fputs(".SH OPTIONS\n", f);
    opt_man_options(cmd, f);
}

void opt_list(const opt_cmd *cmd, FILE *f) {
    fprintf(f, "%s\t\t\n", cmd->prog);
    for (const opt_spec *const *t = cmd->tables; t && *t; t++)
        for (const opt_spec *o = *t; o->id || o->help; o++)
            if (o->id > 0) fprintf(f, "%s\t%s\t%s\n", cmd->prog, o->names, o->arg ? o->arg : "");
    for (const opt_cmd *const *s = cmd->subs; s && *s; s++)
        opt_list(*s, f);
}
