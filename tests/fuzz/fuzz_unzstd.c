/*
 * fuzz_unzstd.c — the zstd front end of src/io/io_input.c (see fuzz_decomp.h).
 */
#define FUZZ_CODEC CSVAVRO_COMPRESSION_ZSTD
#include "fuzz_decomp.h"
