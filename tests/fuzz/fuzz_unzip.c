/*
 * fuzz_unzip.c — the zip front end of src/io/io_input.c (see fuzz_decomp.h).
 */
#define FUZZ_CODEC CSVAVRO_COMPRESSION_ZIP
#include "fuzz_decomp.h"
