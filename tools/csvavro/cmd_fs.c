/* cmd_fs.c — placeholder until the fs command lands. */
#include "cli.h"

int cli_cmd_fs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "csvavro fs: not built yet\n");
    return CLI_FAIL;
}
