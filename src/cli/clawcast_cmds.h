/*
 * clawcast_cmds — the `agentcast clawcast SUBCOMMAND` entry points, dispatched by clawcast.c.
 * Each takes argv from the subcommand's name on and returns the exit code (clawcast_common.h).
 */
#ifndef AGENTCAST_CLI_CLAWCAST_CMDS_H
#define AGENTCAST_CLI_CLAWCAST_CMDS_H

/* clawcast_slot.c */
int clawcast_cmd_book(int argc, char **argv);
int clawcast_cmd_frame(int argc, char **argv);
int clawcast_cmd_batch(int argc, char **argv);
int clawcast_cmd_end(int argc, char **argv);
int clawcast_cmd_poll_results(int argc, char **argv);
/* clawcast_public.c */
int clawcast_cmd_now(int argc, char **argv);
int clawcast_cmd_queue(int argc, char **argv);
int clawcast_cmd_chat(int argc, char **argv);
int clawcast_cmd_vote(int argc, char **argv);
/* clawcast_duet.c */
int clawcast_cmd_duet(int argc, char **argv);
/* clawcast_mirror.c */
int clawcast_cmd_mirror(int argc, char **argv);

#endif
