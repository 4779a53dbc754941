/*
 * net_connect — opens the TCP connection under an RTMP/RTMPS output: name resolution
 * (IPv4 and IPv6) and a connect that respects a deadline, because librtmp's own connect resolves
 * IPv4 only and can block far longer than the output's connect timeout.
 */
#ifndef AGENTCAST_NET_NET_CONNECT_H
#define AGENTCAST_NET_NET_CONNECT_H

#include <stddef.h>
#include <stdint.h>

/* Resolves host (a name, or an IPv4/IPv6 literal without brackets) with getaddrinfo
 * (AF_UNSPEC) and connects to port, trying each address in the order returned, all before
 * deadline_ns (CLOCK_MONOTONIC ns, see core/clock.h). Returns a connected socket in blocking
 * mode with TCP_NODELAY and close-on-exec, which the caller owns and closes; or a negative errno
 * (-ETIMEDOUT when the deadline passed, -EHOSTUNREACH when the name does not resolve) with a
 * one-line reason naming host:port in err. */
int net_connect(const char *host, int port, int64_t deadline_ns, char *err, size_t err_size);

/* Writes "host:port", or "[host]:port" when host is an IPv6 literal. */
void net_format_host_port(const char *host, int port, char *out, size_t out_size);

/* Milliseconds left until deadline_ns (CLOCK_MONOTONIC), clamped to 0..INT_MAX. */
int net_remaining_ms(int64_t deadline_ns);

#endif
