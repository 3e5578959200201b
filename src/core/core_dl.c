/*
 * core_dl.c — loading an optional shared library on first use (core_dl.h).
 */
#include "core_dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "dlsym's object pointers must hold function pointers (POSIX)");

static void load(cav_dl_lib *lib) {
    void *h = dlopen(lib->soname, RTLD_NOW | (lib->global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (!h) {
        const char *e = dlerror();
        snprintf(lib->why, sizeof lib->why, "%s", e ? e : "cannot load");
        lib->state = -1;
        return;
    }
    for (size_t i = 0; i < lib->nsyms; i++) {
        dlerror();
        void *p = dlsym(h, lib->syms[i].name);
        const char *e = dlerror();
        if (!p || e) {
            if (e)
                snprintf(lib->why, sizeof lib->why, "%s", e);
            else
                snprintf(lib->why, sizeof lib->why, "%s is NULL", lib->syms[i].name);
            /* keep the library loaded: another table entry of a partial library must not be
             * called, and state -1 makes sure none is */
            lib->state = -1;
            return;
        }
        /* POSIX: the object pointer dlsym returns converts to the function pointer it names */
        memcpy((char *)lib->table + lib->syms[i].offset, &p, sizeof p);
    }
    lib->state = 1;
}

csvavro_status cav_dl_load(cav_dl_lib *lib, const char *what, csvavro_error *err) {
    pthread_mutex_lock(&lib->lock);
    if (lib->state == 0) load(lib);
    int state = lib->state;
    pthread_mutex_unlock(&lib->lock);
    if (state == 1) return CSVAVRO_OK;
    return cav_err(err, CSVAVRO_E_UNSUPPORTED, "%s needs %s: %s", what, lib->soname, lib->why);
}
