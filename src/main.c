/*
 * agentcast — entry point: dispatches to the subcommand (src/cli/).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("agentcast %s\n", AGENTCAST_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: agentcast COMMAND [OPTIONS]\n");
    return 2;
}
