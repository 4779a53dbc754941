/*
 * tls_pump — for RTMPS, a thread that relays bytes between one end of a socketpair (the other
 * end is librtmp's socket) and a TLS connection, so that librtmp speaks plain RTMP while the
 * wire carries TLS that agentcast set up and verified itself (src/net/tls.h).
 *
 * When the TLS side fails, the server closes or the output's cancel fd fires, the pump shuts its
 * socketpair end down and ends, so librtmp's next send or receive fails at once instead of
 * waiting for its socket timeout, and a stop never waits for a stalled server.
 */
#ifndef AGENTCAST_NET_TLS_PUMP_H
#define AGENTCAST_NET_TLS_PUMP_H

#include <stdbool.h>
#include <stddef.h>

struct tls_conn;
struct tls_pump;

/* Starts relaying local_fd (the pump's end of a socketpair; ownership passes to the pump, even
 * on failure) ⇄ tls over tcp_fd (both stay the caller's and must outlive the pump). cancel_fd
 * (-1: none; the caller's, must outlive the pump) ends the pump at once when it becomes
 * readable, as a failure whose reason is "cancelled". where ("host:port") names the peer in log
 * lines. Returns 0, or a negative errno. */
int tls_pump_start(struct tls_pump **out, int local_fd, struct tls_conn *tls, int tcp_fd,
                   int cancel_fd, const char *where);
/* true once the TLS side failed, the server closed or cancel_fd fired; why gets the reason.
 * Thread-safe. */
bool tls_pump_failed(struct tls_pump *p, char *why, size_t why_size);
/* Stops the pump: it first forwards what librtmp already wrote (until librtmp's end is closed)
 * for at most linger_ms, or until cancel_fd fires, then sends close_notify (not after a cancel),
 * and is joined and freed. NULL ok. */
void tls_pump_stop(struct tls_pump *p, int linger_ms);

#endif
