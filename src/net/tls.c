/*
 * tls — mbedTLS 2.28 client for RTMPS (see tls.h). Used by src/net/rtmp_output.c, whose pump
 * thread relays librtmp's plain RTMP bytes through tls_read/tls_write.
 *
 * The socket I/O callbacks are ours (not mbedtls_net_*) so that the fd stays the caller's and
 * errno is kept for messages; they use MSG_NOSIGNAL so a dead peer is an error, not SIGPIPE.
 * The handshake waits with net_wait, so the output's cancel fd ends it at once (a stop never
 * waits for a server that accepted TCP and never answers).
 */
#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "core/clock.h"
#include "net/net_connect.h"

struct tls_conn {
    int fd;
    short wants;   /* POLLIN/POLLOUT after -EAGAIN */
    int sys_errno; /* errno of the last failed send/recv */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    char error[192];
};

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;
    for (;;) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        c->sys_errno = errno;
        return (errno == EPIPE || errno == ECONNRESET) ? MBEDTLS_ERR_NET_CONN_RESET
                                                       : MBEDTLS_ERR_NET_SEND_FAILED;
    }
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;
    for (;;) {
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_READ;
        c->sys_errno = errno;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    }
}

static int count_certs(const mbedtls_x509_crt *crt)
{
    int n = 0;
    for (; crt && crt->raw.p; crt = crt->next)
        n++;
    return n;
}

/* System bundle (if present) plus ca_file (must load when given). */
static int load_cas(struct tls_conn *c, const char *ca_file, char *err, size_t err_size)
{
    mbedtls_x509_crt_parse_file(&c->ca, TLS_SYSTEM_CA_FILE); /* a missing bundle is not fatal */
    if (ca_file) {
        FILE *f = fopen(ca_file, "r");
        if (!f) {
            int e = errno;
            snprintf(err, err_size, "cannot read CA file %s: %s", ca_file, strerror(e));
            return -e;
        }
        fclose(f);
        int before = count_certs(&c->ca);
        int rc = mbedtls_x509_crt_parse_file(&c->ca, ca_file);
        if (rc < 0 || count_certs(&c->ca) == before) {
            snprintf(err, err_size, "CA file %s holds no usable PEM certificate", ca_file);
            return -EINVAL;
        }
    }
    if (count_certs(&c->ca) == 0) {
        snprintf(err, err_size, "no CA certificates: %s is missing and no --ca-file was given",
                 TLS_SYSTEM_CA_FILE);
        return -ENOENT;
    }
    return 0;
}

static int setup(struct tls_conn *c, const char *host, char *err, size_t err_size)
{
    static const char pers[] = "agentcast-rtmps";
    int rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
                                   (const unsigned char *)pers, sizeof(pers) - 1);
    if (rc == 0)
        rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) {
        char why[100];
        mbedtls_strerror(rc, why, sizeof(why));
        snprintf(err, err_size, "TLS setup failed: %s", why);
        return -EIO;
    }
    /* Verification is required, always: there is no option to skip it. */
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    rc = mbedtls_ssl_setup(&c->ssl, &c->conf);
    /* SNI, and the name the certificate is checked against. */
    if (rc == 0)
        rc = mbedtls_ssl_set_hostname(&c->ssl, host);
    if (rc != 0) {
        char why[100];
        mbedtls_strerror(rc, why, sizeof(why));
        snprintf(err, err_size, "TLS setup failed: %s", why);
        return rc == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EIO;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    return 0;
}

static void append_reason(char *out, size_t size, const char *reason)
{
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s", len ? "; " : "", reason);
}

/* Why the certificate was refused, in words a user can act on. */
static void describe_verify_failure(uint32_t flags, const char *host, char *out, size_t size)
{
    out[0] = '\0';
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        append_reason(out, size, "certificate not trusted (use --ca-file to add a CA)");
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        append_reason(out, size,
                      strchr(host, ':') || strspn(host, "0123456789.") == strlen(host)
                          ? "certificate is for another host (mbedTLS cannot match "
                            "IP addresses; connect by host name)"
                          : "certificate is for another host");
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        append_reason(out, size, "certificate expired");
    if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        append_reason(out, size, "certificate not yet valid");
    if (flags & MBEDTLS_X509_BADCERT_REVOKED)
        append_reason(out, size, "certificate revoked");
    uint32_t known = MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_CN_MISMATCH |
                     MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE |
                     MBEDTLS_X509_BADCERT_REVOKED;
    if (flags & ~known) {
        /* mbedTLS's own wording, one line. */
        char info[256];
        if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags & ~known) > 0) {
            for (char *p = info; *p; p++) {
                if (*p == '\n')
                    *p = (p[1] ? ';' : '\0');
            }
            append_reason(out, size, info);
        }
    }
    if (!out[0])
        snprintf(out, size, "certificate verification failed");
}

static int handshake_error(struct tls_conn *c, int rc, const char *host, char *err, size_t err_size)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (flags != 0 && flags != (uint32_t)-1)) {
        describe_verify_failure(flags, host, err, err_size);
        return -EPERM;
    }
    if (rc == MBEDTLS_ERR_SSL_CONN_EOF || rc == MBEDTLS_ERR_NET_CONN_RESET) {
        snprintf(err, err_size,
                 "server closed the connection during the TLS handshake "
                 "(is it an RTMPS port?)");
        return -ECONNRESET;
    }
    if (rc == MBEDTLS_ERR_NET_SEND_FAILED || rc == MBEDTLS_ERR_NET_RECV_FAILED) {
        snprintf(err, err_size, "TLS handshake failed: %s", strerror(c->sys_errno));
        return -c->sys_errno;
    }
    char why[128];
    mbedtls_strerror(rc, why, sizeof(why));
    snprintf(err, err_size, "TLS handshake failed: %s", why);
    return -EIO;
}

/* Runs the handshake on the non-blocking fd until done, the deadline or a cancel. */
static int handshake(struct tls_conn *c, const char *host, int64_t deadline_ns, int cancel_fd,
                     char *err, size_t err_size)
{
    int64_t started = clock_now_ns();
    for (;;) {
        int hs = mbedtls_ssl_handshake(&c->ssl);
        if (hs == 0)
            return 0;
        if (hs != MBEDTLS_ERR_SSL_WANT_READ && hs != MBEDTLS_ERR_SSL_WANT_WRITE)
            return handshake_error(c, hs, host, err, err_size);
        short events = hs == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT;
        int n = net_wait(c->fd, events, cancel_fd, deadline_ns);
        long long spent = (long long)((clock_now_ns() - started) / NS_PER_MS);
        if (n == -ECANCELED) {
            snprintf(err, err_size, "TLS handshake cancelled after %lld ms", spent);
            return n;
        }
        if (n == 0) {
            snprintf(err, err_size, "TLS handshake timed out after %lld ms", spent);
            return -ETIMEDOUT;
        }
        if (n < 0) {
            snprintf(err, err_size, "poll: %s", strerror(-n));
            return n;
        }
    }
}

int tls_connect(struct tls_conn **out, int fd, const char *host, const char *ca_file,
                int64_t deadline_ns, int cancel_fd, char *err, size_t err_size)
{
    *out = NULL;
    struct tls_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    c->fd = fd;
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_entropy_init(&c->entropy);
    mbedtls_ctr_drbg_init(&c->drbg);

    int rc = load_cas(c, ca_file, err, err_size);
    if (rc == 0)
        rc = setup(c, host, err, err_size);
    if (rc == 0) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            rc = -errno;
            snprintf(err, err_size, "fcntl: %s", strerror(-rc));
        }
    }
    if (rc == 0)
        rc = handshake(c, host, deadline_ns, cancel_fd, err, err_size);
    if (rc < 0) {
        tls_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Maps a failed mbedtls_ssl_read/write to an errno and remembers the reason. */
static ssize_t io_error(struct tls_conn *c, int rc)
{
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        c->wants = rc == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT;
        return -EAGAIN;
    }
    if (rc == MBEDTLS_ERR_NET_CONN_RESET) {
        snprintf(c->error, sizeof(c->error), "connection reset by server");
        return -ECONNRESET;
    }
    if (rc == MBEDTLS_ERR_NET_SEND_FAILED || rc == MBEDTLS_ERR_NET_RECV_FAILED) {
        snprintf(c->error, sizeof(c->error), "%s", strerror(c->sys_errno));
        return -c->sys_errno;
    }
    char why[128];
    mbedtls_strerror(rc, why, sizeof(why));
    snprintf(c->error, sizeof(c->error), "TLS error: %s", why);
    return -EIO;
}

ssize_t tls_read(struct tls_conn *c, void *buf, size_t len)
{
    int rc = mbedtls_ssl_read(&c->ssl, buf, len);
    if (rc > 0)
        return rc;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_SSL_CONN_EOF) {
        snprintf(c->error, sizeof(c->error), "connection closed by server");
        return 0;
    }
    return io_error(c, rc);
}

ssize_t tls_write(struct tls_conn *c, const void *buf, size_t len)
{
    int rc = mbedtls_ssl_write(&c->ssl, buf, len);
    if (rc >= 0)
        return rc;
    return io_error(c, rc);
}

short tls_wants(const struct tls_conn *c)
{
    return c->wants;
}

size_t tls_pending(const struct tls_conn *c)
{
    return mbedtls_ssl_get_bytes_avail(&c->ssl);
}

const char *tls_error(const struct tls_conn *c)
{
    return c->error[0] ? c->error : "no error";
}

void tls_describe(const struct tls_conn *c, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s %s", mbedtls_ssl_get_version(&c->ssl),
             mbedtls_ssl_get_ciphersuite(&c->ssl));
}

void tls_close_notify(struct tls_conn *c)
{
    mbedtls_ssl_close_notify(&c->ssl);
}

void tls_free(struct tls_conn *c)
{
    if (!c)
        return;
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
    free(c);
}
