/*
 * tls — the TLS client under RTMPS (mbedTLS 2.28), over a TCP socket agentcast connected itself.
 *
 * The server certificate is always verified (there is deliberately no way to turn this off):
 * chain against the system CA bundle plus an optional extra PEM file, and the name against the
 * host the user asked for, which is also sent as SNI. mbedTLS 2.28 cannot match IP addresses in
 * certificates, so RTMPS needs a host name. After the handshake, reads and writes are
 * non-blocking: they return -EAGAIN and tls_wants() says which poll event to wait for.
 */
#ifndef AGENTCAST_NET_TLS_H
#define AGENTCAST_NET_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

struct tls_conn;

/* Handshakes as a client over the connected socket fd, verifying the certificate for host and
 * trusting the CAs in TLS_SYSTEM_CA_FILE plus those in ca_file (PEM; NULL for none), before
 * deadline_ns (CLOCK_MONOTONIC) and unless cancel_fd (-1: none) becomes readable. fd is switched
 * to non-blocking mode and stays owned by the caller, who closes it after tls_free. On success
 * *out is the caller's (tls_free). On failure returns a negative errno (-ETIMEDOUT, -ECANCELED,
 * -ECONNRESET, -EPERM for a refused certificate, -EIO) with a one-line reason in err, e.g.
 * "certificate not trusted (use --ca-file to add a CA)". */
int tls_connect(struct tls_conn **out, int fd, const char *host, const char *ca_file,
                int64_t deadline_ns, int cancel_fd, char *err, size_t err_size);

/* Reads decrypted bytes: > 0 bytes read, 0 when the peer closed the connection, -EAGAIN when
 * nothing can be read now (see tls_wants), or another negative errno (see tls_error). */
ssize_t tls_read(struct tls_conn *c, void *buf, size_t len);
/* Writes: > 0 bytes accepted, -EAGAIN (call again later with the same bytes; see tls_wants), or
 * another negative errno. */
ssize_t tls_write(struct tls_conn *c, const void *buf, size_t len);
/* POLLIN or POLLOUT: what the last -EAGAIN is waiting for on the socket. */
short tls_wants(const struct tls_conn *c);
/* Decrypted bytes already buffered, readable without waiting for the socket. */
size_t tls_pending(const struct tls_conn *c);
/* A one-line description of the last error. Valid until the next call on c. */
const char *tls_error(const struct tls_conn *c);
/* "TLSv1.2 TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256", for logs. */
void tls_describe(const struct tls_conn *c, char *out, size_t out_size);
/* Sends close_notify without waiting; best effort. */
void tls_close_notify(struct tls_conn *c);
/* Frees c (the socket stays open). NULL ok. */
void tls_free(struct tls_conn *c);

#endif
