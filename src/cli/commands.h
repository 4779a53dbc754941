/*
 * commands — one entry point per subcommand; each takes argv from the subcommand name on and
 * returns the process exit code (0 ok, 1 runtime failure, 2 usage, 3 platform refused).
 */
#ifndef AGENTCAST_CLI_COMMANDS_H
#define AGENTCAST_CLI_COMMANDS_H

int cmd_stream(int argc, char **argv);
int cmd_probe(int argc, char **argv);
/* retake.tv one-shot commands (src/cli/retake_*.c) */
int cmd_register(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_stop(int argc, char **argv);
/* ClawCast.tv (src/cli/clawcast*.c) */
int cmd_clawcast(int argc, char **argv);

#endif
