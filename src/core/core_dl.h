/*
 * core_dl.h — optional shared libraries loaded on first use (dlopen), so that a run that does
 * not need them does not pay for loading them at start-up (docs/internals/startup.md). Each user
 * keeps a table of function pointers next to its code (libzip in src/io/io_input.c, ...), declared
 * with the macros below so that every pointer has exactly the prototype of the library's own header
 * (__typeof__ of the declaration):
 *
 *     #define ZIP_FUNCS(X) X(zip_open_from_source) X(zip_fread) ...   (clang-format off)
 *     struct zip_api { ZIP_FUNCS(CAV_DL_FIELD) };
 *     #define ZIP_SYM(f) CAV_DL_SYM(struct zip_api, f)
 *     static const cav_dl_sym zip_syms[] = {ZIP_FUNCS(ZIP_SYM)};
 *     static struct zip_api zl;
 *     static cav_dl_lib zip_lib = CAV_DL_LIB(CAV_SONAME_LIBZIP, 0, zip_syms, &zl);
 *
 * and calls look like zl.zip_fopen_index(...) after cav_dl_load(&zip_lib, "zip input", err).
 * The build passes the library's soname (CAV_SONAME_<LIB>, read from the library the build
 * found), so the run-time library is the one whose headers the code was compiled against.
 *
 * Invariants: a library is loaded and resolved at most once per process (under a mutex); the
 * table is written only under that mutex before the library is reported loaded, and never after,
 * so callers read it without locking once cav_dl_load returned OK. A failure is remembered
 * (the same message every time). Loaded libraries are never unloaded.
 */
#ifndef CAV_CORE_DL_H
#define CAV_CORE_DL_H

#include "core.h"

#include <pthread.h>

/* One symbol: its name and where its pointer goes in the library's table. */
typedef struct cav_dl_sym {
    const char *name;
    size_t offset;
} cav_dl_sym;

typedef struct cav_dl_lib {
    const char *soname; /* e.g. "libcrypto.so.3" */
    int global;         /* RTLD_GLOBAL (Open MPI's own plugins need libmpi's symbols) */
    const cav_dl_sym *syms;
    size_t nsyms;
    void *table; /* the struct the pointers are written to */
    pthread_mutex_t lock;
    int state; /* 0: not tried, 1: loaded, -1: failed (why says how) */
    char why[200];
} cav_dl_lib;

/* A table member with the prototype of the library's function (or object) f. */
#define CAV_DL_FIELD(f) __typeof__(f) *f;
/* The symbol list entry of member f of table type T. */
#define CAV_DL_SYM(T, f) {#f, offsetof(T, f)},
#define CAV_DL_LIB(soname, global, syms, table)                                                    \
    {                                                                                              \
        (soname), (global), (syms), CAV_ARRAY_LEN(syms), (table), PTHREAD_MUTEX_INITIALIZER, 0, {  \
            0                                                                                      \
        }                                                                                          \
    }

/* Loads lib and resolves all its symbols, once per process (thread-safe). On failure (now or
 * earlier) returns CSVAVRO_E_UNSUPPORTED with "<what> needs <soname>: <reason>", e.g.
 * "hdfs://: Kerberos needs libgssapi_krb5.so.2: libgssapi_krb5.so.2: cannot open shared object
 * file: No such file or directory". */
csvavro_status cav_dl_load(cav_dl_lib *lib, const char *what, csvavro_error *err);

#endif /* CAV_CORE_DL_H */
