/*
 * fuzz_unxz.c — the xz front end of src/io/io_input.c (see fuzz_decomp.h).
 */
#define FUZZ_CODEC CSVAVRO_COMPRESSION_XZ
#include "fuzz_decomp.h"
