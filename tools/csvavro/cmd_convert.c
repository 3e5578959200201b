/* cmd_convert.c — placeholder until the convert command lands. */
#include "cli.h"

int cli_cmd_convert(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "csvavro convert: not built yet\n");
    return CLI_FAIL;
}
