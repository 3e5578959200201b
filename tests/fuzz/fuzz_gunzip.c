/*
 * fuzz_gunzip.c — the gzip front end of src/io/io_input.c (see fuzz_decomp.h).
 */
#define FUZZ_CODEC CSVAVRO_COMPRESSION_GZIP
#include "fuzz_decomp.h"
