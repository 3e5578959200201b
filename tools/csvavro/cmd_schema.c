/* cmd_schema.c — placeholder until the schema command lands. */
#include "cli.h"

int cli_cmd_schema(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "csvavro schema: not built yet\n");
    return CLI_FAIL;
}
