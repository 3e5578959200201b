/* cmd_cat.c — placeholder until the cat command lands. */
#include "cli.h"

int cli_cmd_cat(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "csvavro cat: not built yet\n");
    return CLI_FAIL;
}
