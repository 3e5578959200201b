# The optional libraries loaded on first use (src/core/core_dl.h): a clear error naming the
# feature and the library when one cannot be loaded, and runs that do not need it unaffected.
cav_add_script_test(NAME dl_missing COMMAND /bin/bash ${CMAKE_SOURCE_DIR}/tests/dl/dl_missing.sh
                    LABELS cli TIMEOUT 120)
