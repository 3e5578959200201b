/*
 * fuzz_bunzip2.c — the bzip2 front end of src/io/io_input.c (see fuzz_decomp.h).
 */
#define FUZZ_CODEC CSVAVRO_COMPRESSION_BZIP2
#include "fuzz_decomp.h"
