/*
 * io_src.h — sequential byte sources inside src/io (io_input.c's decoder chain, io_chunks.c's
 * split views). Nothing outside src/io includes it.
 */
#ifndef CAV_IO_SRC_H
#define CAV_IO_SRC_H

#include "io.h"

typedef struct cav_src cav_src;
struct cav_src {
    /* reads up to cap bytes; *got == 0 only at the end */
    csvavro_status (*read)(cav_src *s, uint8_t *buf, size_t cap, size_t *got, csvavro_error *err);
    void (*destroy)(cav_src *s);
    int64_t consumed; /* bytes handed out so far */
};

/* Builds a fresh source reading from the beginning (again after a backward read). */
typedef csvavro_status (*cav_src_make)(void *arg, cav_src **out, csvavro_error *err);

/* A sequential csvavro_file (size CAV_SIZE_UNKNOWN, codec c) over the sources mk(arg) builds,
 * with the same window as a decoded input. arg belongs to the view (arg_free at its close; also
 * on failure). */
csvavro_status cav_input_view_make(const char *display, csvavro_compression c, cav_src_make mk,
                                   void *arg, void (*arg_free)(void *), csvavro_file **out,
                                   csvavro_error *err);
/* The arg of a view made by cav_input_view_make, NULL for any other file. */
void *cav_input_view_arg(csvavro_file *f);

#endif
