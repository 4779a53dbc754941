/*
 * net_connect — opens the TCP connection under an RTMP/RTMPS output: name resolution
 * (IPv4 and IPv6) and a connect that respects a deadline, because librtmp's own connect resolves
 * IPv4 only and can block far longer than the output's connect timeout.
 *
 * Every wait here also watches a cancel fd (output_options.cancel_fd): once it is readable the
 * call gives up at once with -ECANCELED, so that stopping never waits on the network. For code
 * that blocks in socket calls it cannot interrupt itself (librtmp), a guard does the same by
 * shutting the socket down.
 */
#ifndef AGENTCAST_NET_NET_CONNECT_H
#define AGENTCAST_NET_NET_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Resolves host (a name, or an IPv4/IPv6 literal without brackets) with getaddrinfo
 * (AF_UNSPEC) and connects to port, trying each address in the order returned, all before
 * deadline_ns (CLOCK_MONOTONIC ns, see core/clock.h) and unless cancel_fd (-1: none) becomes
 * readable. Returns a connected socket in blocking mode with TCP_NODELAY and close-on-exec,
 * which the caller owns and closes; or a negative errno (-ETIMEDOUT when the deadline passed,
 * -ECANCELED when cancel_fd fired, -EHOSTUNREACH when the name does not resolve) with a
 * one-line reason naming host:port in err. */
int net_connect(const char *host, int port, int64_t deadline_ns, int cancel_fd, char *err,
                size_t err_size);

/* true when cancel_fd (-1: none) is readable, i.e. the caller must give up. Never reads it:
 * a cancel stays visible to every later check. */
bool net_cancelled(int cancel_fd);

/* Waits until fd (-1: none, just wait) reports one of events, deadline_ns passes (INT64_MAX:
 * never) or cancel_fd (-1: none) becomes readable; a cancel wins over a ready fd. Returns fd's
 * revents (> 0), 0 at the deadline, -ECANCELED, or another negative errno. */
int net_wait(int fd, short events, int cancel_fd, int64_t deadline_ns);

/* A guard: a thread that shuts a socket down (shutdown(SHUT_RDWR): blocked and later send and
 * recv calls on it fail at once) when deadline_ns passes, until net_guard_clear_deadline, or
 * whenever cancel_fd (-1: none) becomes readable. It acts at most once. */
struct net_guard;

/* Starts guarding fd, which stays the caller's and must stay open until net_guard_stop: pass a
 * dup that nobody else closes, so the guard never shuts down a recycled fd number. cancel_fd
 * (-1: none) is the caller's too. On success *out is the caller's (net_guard_stop). Returns 0 or
 * a negative errno. */
int net_guard_start(struct net_guard **out, int fd, int cancel_fd, int64_t deadline_ns);
/* From now on only cancel_fd can fire the guard. Returns false if it already shut fd down. */
bool net_guard_clear_deadline(struct net_guard *g);
/* true if the guard shut fd down because the deadline passed (not because of cancel_fd). */
bool net_guard_timed_out(struct net_guard *g);
/* Ends the guard's thread and frees it; fd may be closed afterwards. NULL ok. */
void net_guard_stop(struct net_guard *g);

/* Writes "host:port", or "[host]:port" when host is an IPv6 literal. */
void net_format_host_port(const char *host, int port, char *out, size_t out_size);

/* Milliseconds left until deadline_ns (CLOCK_MONOTONIC), clamped to 0..INT_MAX. */
int net_remaining_ms(int64_t deadline_ns);

#endif
