/*
 * commands — one entry point per subcommand; each takes argv from the subcommand name on and
 * returns the process exit code (0 ok, 1 runtime failure, 2 usage, 3 platform refused).
 */
#ifndef AGENTCAST_CLI_COMMANDS_H
#define AGENTCAST_CLI_COMMANDS_H

int cmd_stream(int argc, char **argv);

#endif
