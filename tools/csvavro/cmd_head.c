/* cmd_head.c — placeholder until the head command lands. */
#include "cli.h"

int cli_cmd_head(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "csvavro head: not built yet\n");
    return CLI_FAIL;
}
