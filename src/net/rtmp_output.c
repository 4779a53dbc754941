/*
 * rtmp_output — the RTMP/RTMPS transport behind an output (src/media/output.c drives it: queue,
 * sender thread, reconnects). Sends FLV tag bodies as RTMP messages with librtmp.
 *
 * librtmp is used for the RTMP protocol only, never for networking (DESIGN.md §4): it resolves
 * IPv4-only, verifies no certificate and sends no SNI. We resolve and connect ourselves
 * (net_connect.c); for rtmps we do the TLS handshake with mbedTLS (tls.c) and give librtmp one
 * end of a socketpair whose other end a pump thread relays through TLS (tls_pump.c); for rtmp
 * librtmp gets the TCP socket. Guards around librtmp:
 *  - SO_RCVTIMEO/SO_SNDTIMEO on its socket, so a silent server cannot hang a send or receive;
 *  - a guard (net_guard, net_connect.h) for the whole connection, that shuts the socket down
 *    when the connect deadline passes (librtmp's handshake loops could otherwise wait
 *    io_timeout per read) and whenever the output's cancel fd fires, so that a stop never waits
 *    on the network: a blocked handshake, send or goodbye fails at once;
 *  - a dup of its socket (guard_fd), kept open until close, so that the guard never touches a
 *    recycled fd number;
 *  - SIGPIPE ignored (librtmp sends without MSG_NOSIGNAL);
 *  - what the server sends (acks, pings, status) is read between writes, because a publishing
 *    librtmp never reads and the server's messages would otherwise pile up.
 * Resolve, TCP connect, TLS handshake and the TLS pump watch the cancel fd themselves. A
 * cancelled call returns -ECANCELED and logs at debug level only: a requested stop is not a
 * failure. The stream key is never logged: messages name host:port or the redacted URL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <librtmp/amf.h>
#include <librtmp/log.h>
#include <librtmp/rtmp.h>

#include "core/clock.h"
#include "core/log.h"
#include "media/output.h"
#include "net/net_connect.h"
#include "net/stream_url.h"
#include "net/tls.h"
#include "net/tls_pump.h"

#define RTMP_CHUNK_SIZE 4096      /* fewer chunk headers and syscalls than the default 128 */
#define RTMP_DATA_CHANNEL 0x04    /* audio, video and data messages, as librtmp's RTMP_Write */
#define RTMP_CLOSE_TIMEOUT_MS 500 /* goodbye + TLS flush; stop must finish within 2 s */
#define DRAIN_MAX_PACKETS 32      /* per write, so a chatty server cannot starve the sender */

/* snprintf for messages, where cutting a long line short is fine. */
static void msgf(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void msgf(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

/* ---- process-wide setup ---- */

static void librtmp_log(int level, const char *fmt, va_list ap)
{
    if (level > RTMP_LOGERROR || log_get_level() < LOG_DEBUG)
        return;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    log_debug("librtmp", "%s", line);
}

static void global_init(void)
{
    /* librtmp writes with plain send(): a peer that went away must be an error, not a kill. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    RTMP_LogSetLevel(RTMP_LOGERROR);
    RTMP_LogSetCallback(librtmp_log);
    /* The first RTMP_Init sets up librtmp's global TLS context without a lock: do it once. */
    RTMP *r = RTMP_Alloc();
    if (r) {
        RTMP_Init(r);
        RTMP_Free(r);
    }
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

struct rtmp_conn {
    RTMP *rtmp;
    char *librtmp_url; /* librtmp keeps pointers into it: freed after RTMP_Free */
    struct stream_url url;
    char where[300];    /* host:port, for messages */
    char display[1200]; /* redacted URL */
    bool tls_mode;
    int tcp_fd;    /* rtmps: the TLS socket; rtmp: -1 (librtmp's socket is it) */
    int guard_fd;  /* dup of librtmp's socket, see the header comment */
    int cancel_fd; /* output_options.cancel_fd (the output's; -1: none) */
    struct net_guard *guard;
    struct tls_conn *tls;
    struct tls_pump *pump;
    int stream_id;
    int io_timeout_ms;
    bool failed;
    int fail_rc;
    char status[256];       /* an error status the server sent, for messages */
    unsigned char *scratch; /* RTMP_MAX_HEADER_SIZE headroom + body: librtmp writes in it */
    size_t scratch_cap;
};

/* ---- server messages ---- */

static bool aval_is(const AVal *v, const char *s)
{
    size_t n = strlen(s);
    return v->av_val && (size_t)v->av_len == n && memcmp(v->av_val, s, n) == 0;
}

/* Copies src into dst with every occurrence of the stream key replaced by "…": some servers
 * put the stream name in their status descriptions. */
static void scrub_key(const struct rtmp_conn *c, const char *src, size_t len, char *dst,
                      size_t size)
{
    const char *key = c->url.key;
    size_t full = strlen(key), bare = strcspn(key, "?");
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < size;) {
        size_t match = 0;
        if (full >= 3 && i + full <= len && memcmp(src + i, key, full) == 0)
            match = full;
        else if (bare >= 3 && i + bare <= len && memcmp(src + i, key, bare) == 0)
            match = bare;
        if (match) {
            memcpy(dst + o, "\xe2\x80\xa6", 3);
            o += 3;
            i += match;
        } else {
            unsigned char ch = (unsigned char)src[i++];
            dst[o++] = (char)(ch < 0x20 ? ' ' : ch);
        }
    }
    dst[o] = '\0';
}

enum server_note { NOTE_NONE, NOTE_SOFT_ERROR, NOTE_FATAL_ERROR };

/* Remembers an error the server reports so that the failure message can say what the server
 * said: onStatus with level "error" or a "close" call (fatal), or an _error reply (soft: some
 * servers answer releaseStream/FCPublish with _error and carry on). */
static enum server_note note_server_error(struct rtmp_conn *c, const RTMPPacket *pkt)
{
    if (pkt->m_packetType != RTMP_PACKET_TYPE_INVOKE || pkt->m_nBodySize < 3 ||
        pkt->m_body[0] != AMF_STRING)
        return NOTE_NONE;
    AMFObject obj;
    if (AMF_Decode(&obj, pkt->m_body, (int)pkt->m_nBodySize, FALSE) < 0)
        return NOTE_NONE;
    AVal method = {0}, code = {0}, level = {0}, desc = {0};
    AMFProp_GetString(AMF_GetProp(&obj, NULL, 0), &method);
    enum server_note note = NOTE_NONE;
    if (aval_is(&method, "onStatus") || aval_is(&method, "_error")) {
        AMFObject info;
        AMFProp_GetObject(AMF_GetProp(&obj, NULL, 3), &info);
        static const AVal av_code = {"code", 4}, av_level = {"level", 5},
                          av_desc = {"description", 11};
        AMFProp_GetString(AMF_GetProp(&info, &av_code, -1), &code);
        AMFProp_GetString(AMF_GetProp(&info, &av_level, -1), &level);
        AMFProp_GetString(AMF_GetProp(&info, &av_desc, -1), &desc);
        if (aval_is(&method, "_error"))
            note = NOTE_SOFT_ERROR;
        else if (aval_is(&level, "error"))
            note = NOTE_FATAL_ERROR;
    } else if (aval_is(&method, "close")) {
        note = NOTE_FATAL_ERROR;
        code.av_val = "close";
        code.av_len = 5;
    }
    if (note != NOTE_NONE) {
        char text[256];
        snprintf(text, sizeof(text), "%.*s%s%.*s%s", code.av_len, code.av_val ? code.av_val : "",
                 desc.av_len ? " (" : "", desc.av_len, desc.av_val ? desc.av_val : "",
                 desc.av_len ? ")" : "");
        scrub_key(c, text, strlen(text), c->status, sizeof(c->status));
    }
    AMF_Reset(&obj);
    return note;
}

/* RTMP_ReadPacket that frees a half-read body on failure without touching the partial
 * messages librtmp keeps per channel (it would free those itself). */
static bool read_packet(RTMP *r, RTMPPacket *pkt)
{
    char *partial[64];
    int n = 0;
    for (int i = 0; i < r->m_channelsAllocatedIn && n < 64; i++) {
        if (r->m_vecChannelsIn[i] && r->m_vecChannelsIn[i]->m_body)
            partial[n++] = r->m_vecChannelsIn[i]->m_body;
    }
    memset(pkt, 0, sizeof(*pkt));
    if (RTMP_ReadPacket(r, pkt))
        return true;
    bool owned = pkt->m_body != NULL;
    for (int i = 0; i < n && owned; i++)
        owned = partial[i] != pkt->m_body;
    if (owned)
        RTMPPacket_Free(pkt);
    return false;
}

/* Why librtmp's last read or write failed, for messages. */
static void io_failure_reason(struct rtmp_conn *c, int err, char *out, size_t size)
{
    char why[192];
    if (c->status[0])
        msgf(out, size, "server said %s", c->status);
    else if (tls_pump_failed(c->pump, why, sizeof(why)))
        msgf(out, size, "%s", why);
    else if (c->rtmp->m_sb.sb_timedout || err == EAGAIN || err == EWOULDBLOCK)
        msgf(out, size, "no progress within %d ms", c->io_timeout_ms);
    else if (err == EPIPE || err == ECONNRESET || err == 0 || !RTMP_IsConnected(c->rtmp))
        msgf(out, size, "connection closed by server");
    else
        msgf(out, size, "%s", strerror(err));
}

/* A stop that did not wait for the network: worth a debug line, not a warning. */
static int cancelled(const struct rtmp_conn *c, const char *doing)
{
    log_debug("rtmp", "%s %s cancelled (stopping)", doing, c->where);
    return -ECANCELED;
}

/* Reads and handles what the server sent, without waiting for more. 0 or a negative errno. */
static int drain(struct rtmp_conn *c)
{
    RTMP *r = c->rtmp;
    for (int i = 0; i < DRAIN_MAX_PACKETS; i++) {
        if (r->m_sb.sb_size <= 0) {
            struct pollfd pfd = {.fd = r->m_sb.sb_socket, .events = POLLIN};
            if (poll(&pfd, 1, 0) <= 0)
                return 0;
        }
        RTMPPacket pkt;
        errno = 0;
        if (!read_packet(r, &pkt)) {
            if (net_cancelled(c->cancel_fd))
                return cancelled(c, "receiving from");
            char why[256];
            io_failure_reason(c, errno, why, sizeof(why));
            log_warn("rtmp", "connection to %s lost: %s", c->where, why);
            return r->m_sb.sb_timedout ? -ETIMEDOUT : -ECONNRESET;
        }
        if (!RTMPPacket_IsReady(&pkt))
            continue;
        log_debug("rtmp", "server %s sent message type 0x%02x (%u bytes)", c->where,
                  pkt.m_packetType, pkt.m_nBodySize);
        enum server_note note = note_server_error(c, &pkt);
        RTMP_ClientPacket(r, &pkt);
        RTMPPacket_Free(&pkt);
        if (!RTMP_IsConnected(r)) {
            log_warn("rtmp", "connection to %s closed by server%s%s", c->where,
                     c->status[0] ? ": " : "", c->status);
            return -ECONNRESET;
        }
        if (note == NOTE_FATAL_ERROR) {
            log_warn("rtmp", "server %s said %s", c->where, c->status);
        } else if (note == NOTE_SOFT_ERROR) {
            log_debug("rtmp", "server %s answered _error: %s", c->where, c->status);
            c->status[0] = '\0'; /* not a reason for a later failure */
        }
    }
    return 0;
}

/* ---- connect ---- */

/* RTMP_ConnectStream (connect → createStream → publish), but stopping at an error status and
 * remembering it, which librtmp would only log. */
static bool connect_stream(struct rtmp_conn *c)
{
    RTMP *r = c->rtmp;
    while (!r->m_bPlaying && RTMP_IsConnected(r)) {
        RTMPPacket pkt;
        if (!read_packet(r, &pkt))
            return false;
        if (!RTMPPacket_IsReady(&pkt))
            continue;
        if (pkt.m_nBodySize == 0 || pkt.m_packetType == RTMP_PACKET_TYPE_AUDIO ||
            pkt.m_packetType == RTMP_PACKET_TYPE_VIDEO ||
            pkt.m_packetType == RTMP_PACKET_TYPE_INFO) {
            RTMPPacket_Free(&pkt);
            continue;
        }
        enum server_note note = note_server_error(c, &pkt);
        RTMP_ClientPacket(r, &pkt);
        RTMPPacket_Free(&pkt);
        if (note == NOTE_FATAL_ERROR)
            return false;
    }
    return r->m_bPlaying;
}

/* Set Chunk Size: big messages go out in RTMP_CHUNK_SIZE pieces instead of 128-byte ones. */
static bool send_chunk_size(RTMP *r)
{
    char buf[RTMP_MAX_HEADER_SIZE + 4] = {0};
    RTMPPacket pkt = {
        .m_headerType = RTMP_PACKET_SIZE_LARGE,
        .m_packetType = RTMP_PACKET_TYPE_CHUNK_SIZE,
        .m_nChannel = 0x02, /* protocol control */
        .m_nBodySize = 4,
        .m_body = buf + RTMP_MAX_HEADER_SIZE,
    };
    AMF_EncodeInt32(pkt.m_body, pkt.m_body + 4, RTMP_CHUNK_SIZE);
    if (!RTMP_SendPacket(r, &pkt, FALSE))
        return false;
    r->m_outChunkSize = RTMP_CHUNK_SIZE;
    return true;
}

/* Appends s with '\' escaped as librtmp's option parser expects ("\5c"). */
static size_t append_escaped(char *out, size_t o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\') {
            memcpy(out + o, "\\5c", 3);
            o += 3;
        } else {
            out[o++] = *s;
        }
    }
    return o;
}

/* "rtmp://host:port/app/key app=… playpath=… tcUrl=…": the explicit options override what
 * librtmp's URL parser would guess (it caps the app at three segments, strips ".flv" and
 * "mp4:"-prefixes keys, and cannot read IPv6 literals). Caller frees. */
static char *build_librtmp_url(const struct stream_url *u)
{
    char hostport[300];
    net_format_host_port(u->host, u->port, hostport, sizeof(hostport));
    size_t app = strlen(u->app), key = strlen(u->key);
    size_t cap = 2 * strlen(hostport) + 4 * (app + key) + 3 * app + 64;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = (size_t)snprintf(out, cap, "rtmp://%s/%s/%s app=", hostport, u->app, u->key);
    o = append_escaped(out, o, u->app);
    memcpy(out + o, " playpath=", 10);
    o = append_escaped(out, o + 10, u->key);
    o += (size_t)snprintf(out + o, cap - o, " tcUrl=rtmp://%s/", hostport);
    o = append_escaped(out, o, u->app);
    out[o] = '\0';
    return out;
}

static void set_io_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* TCP (+ TLS and the pump for rtmps). On success *lfd is the socket librtmp is to use (the
 * caller's). err always starts with host:port. */
static int open_transport(struct rtmp_conn *c, const struct output_options *opts,
                          int64_t deadline_ns, int connect_ms, int *lfd, char *err, size_t err_size)
{
    int fd = net_connect(c->url.host, c->url.port, deadline_ns, c->cancel_fd, err, err_size);
    if (fd < 0)
        return fd;
    if (!c->tls_mode) {
        *lfd = fd;
        return 0;
    }
    c->tcp_fd = fd;
    char why[224];
    int rc = tls_connect(&c->tls, fd, c->url.host, opts->ca_file, deadline_ns, c->cancel_fd, why,
                         sizeof(why));
    if (rc == -ETIMEDOUT) {
        msgf(err, err_size, "%s: no answer within %d ms (timed out in the TLS handshake)", c->where,
             connect_ms);
        return rc;
    }
    if (rc < 0) {
        msgf(err, err_size, "%s: %s", c->where, why);
        return rc;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        rc = -errno;
        msgf(err, err_size, "%s: socketpair: %s", c->where, strerror(-rc));
        return rc;
    }
    rc = tls_pump_start(&c->pump, sv[1], c->tls, fd, c->cancel_fd, c->where);
    if (rc < 0) {
        close(sv[0]);
        msgf(err, err_size, "%s: cannot start the TLS pump: %s", c->where, strerror(-rc));
        return rc;
    }
    *lfd = sv[0];
    return 0;
}

/* Explains a failed RTMP connect/publish; returns the errno for it. */
static int rtmp_phase_error(struct rtmp_conn *c, const char *phase, bool timed_out, int err_no,
                            int connect_ms, char *err, size_t err_size)
{
    if (timed_out) {
        msgf(err, err_size, "%s: no answer within %d ms (timed out in the %s)", c->where,
             connect_ms, phase);
        return -ETIMEDOUT;
    }
    if (c->status[0]) {
        msgf(err, err_size, "%s: server refused: %s", c->where, c->status);
        return -ECONNREFUSED;
    }
    char why[256];
    io_failure_reason(c, err_no, why, sizeof(why));
    msgf(err, err_size, "%s: %s failed: %s", c->where, phase, why);
    return c->rtmp->m_sb.sb_timedout ? -ETIMEDOUT : -ECONNRESET;
}

/* librtmp on lfd (taken over: librtmp closes it) up to NetStream.Publish.Start. */
static int open_rtmp(struct rtmp_conn *c, int lfd, int64_t deadline_ns, int connect_ms, char *err,
                     size_t err_size)
{
    /* During the handshake the guard enforces the connect deadline; a shorter per-read timeout
     * would cut a slow but legal handshake short with the wrong message. */
    set_io_timeouts(lfd, connect_ms > c->io_timeout_ms ? connect_ms : c->io_timeout_ms);
    c->guard_fd = fcntl(lfd, F_DUPFD_CLOEXEC, 0);
    c->rtmp = RTMP_Alloc();
    if (c->rtmp)
        RTMP_Init(c->rtmp); /* at once: a zeroed RTMP would make RTMP_Close close fd 0 */
    c->librtmp_url = build_librtmp_url(&c->url);
    if (c->guard_fd < 0 || !c->rtmp || !c->librtmp_url) {
        close(lfd);
        msgf(err, err_size, "%s: out of memory or file descriptors", c->where);
        return -ENOMEM;
    }
    RTMP *r = c->rtmp;
    if (!RTMP_SetupURL(r, c->librtmp_url)) {
        close(lfd);
        msgf(err, err_size, "%s: librtmp refused the URL", c->where);
        return -EINVAL;
    }
    RTMP_EnableWrite(r);
    r->Link.protocol &= ~(RTMP_FEATURE_SSL | RTMP_FEATURE_HTTP); /* the transport is ours */
    r->m_sb.sb_socket = lfd;
    r->m_bSendCounter = TRUE;

    /* Without the guard neither the deadline nor a stop could interrupt librtmp. */
    int rc = net_guard_start(&c->guard, c->guard_fd, c->cancel_fd, deadline_ns);
    if (rc < 0) {
        msgf(err, err_size, "%s: cannot start a thread: %s", c->where, strerror(-rc));
        return rc;
    }
    const char *phase = "RTMP handshake";
    errno = 0;
    bool ok = RTMP_Connect1(r, NULL);
    if (ok) {
        phase = "RTMP connect and publish";
        ok = send_chunk_size(r) && connect_stream(c);
    }
    int err_no = errno;
    bool intact = net_guard_clear_deadline(c->guard);
    if (net_cancelled(c->cancel_fd) && (!ok || !intact)) {
        msgf(err, err_size, "%s: cancelled in the %s", c->where, phase);
        return -ECANCELED;
    }
    if (!ok || !intact)
        return rtmp_phase_error(c, phase, net_guard_timed_out(c->guard), err_no, connect_ms, err,
                                err_size);
    c->stream_id = r->m_stream_id;
    c->status[0] = '\0'; /* e.g. an _error answer to releaseStream that did not matter */
    set_io_timeouts(r->m_sb.sb_socket, c->io_timeout_ms);
    return 0;
}

static void rtmp_close(void *state);

static int rtmp_open(void **state, const char *url, const struct output_options *opts)
{
    pthread_once(&global_once, global_init);
    *state = NULL;
    struct rtmp_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->tcp_fd = c->guard_fd = -1;
    c->cancel_fd = opts->cancel_fd;
    stream_url_redact(url, c->display, sizeof(c->display));
    char err[512];
    int rc = stream_url_parse(url, &c->url, err, sizeof(err));
    if (rc == 0 && c->url.kind == STREAM_URL_FILE) {
        msgf(err, sizeof(err), "not an rtmp:// or rtmps:// URL");
        rc = -EINVAL;
    }
    if (rc < 0) {
        log_error("rtmp", "cannot publish to %s: %s", c->display, err);
        free(c);
        return rc;
    }
    c->tls_mode = c->url.kind == STREAM_URL_RTMPS;
    net_format_host_port(c->url.host, c->url.port, c->where, sizeof(c->where));
    c->io_timeout_ms = opts->io_timeout_ms > 0 ? opts->io_timeout_ms : 5000;
    int connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
    int64_t started = clock_now_ns();
    int64_t deadline = started + (int64_t)connect_ms * NS_PER_MS;

    int lfd = -1;
    rc = open_transport(c, opts, deadline, connect_ms, &lfd, err, sizeof(err));
    if (rc == 0)
        rc = open_rtmp(c, lfd, deadline, connect_ms, err, sizeof(err));
    if (rc < 0) {
        /* A requested stop is not a failure: no error line for it. */
        log_msg(rc == -ECANCELED ? LOG_DEBUG : LOG_ERROR, "rtmp", "%s connect to %s",
                c->tls_mode ? "RTMPS" : "RTMP", err);
        c->failed = true;
        rtmp_close(c);
        return rc;
    }
    char transport[160] = "plain RTMP";
    if (c->tls)
        tls_describe(c->tls, transport, sizeof(transport));
    log_info("rtmp", "publishing to %s (%s, connected in %lld ms)", c->display, transport,
             (long long)((clock_now_ns() - started) / NS_PER_MS));
    *state = c;
    return 0;
}

/* ---- write and close ---- */

static const uint8_t amf_on_metadata[] = {AMF_STRING, 0x00, 10,  'o', 'n', 'M', 'e',
                                          't',        'a',  'D', 'a', 't', 'a'};
static const uint8_t amf_set_data_frame[] = {AMF_STRING, 0x00, 13,  '@', 's', 'e', 't', 'D',
                                             'a',        't',  'a', 'F', 'r', 'a', 'm', 'e'};

static int mark_failed(struct rtmp_conn *c, int rc)
{
    c->failed = true;
    c->fail_rc = rc;
    return rc;
}

/* Room for a body of size bytes after librtmp's header headroom. */
static int reserve_scratch(struct rtmp_conn *c, size_t size)
{
    size_t need = RTMP_MAX_HEADER_SIZE + size;
    if (need <= c->scratch_cap)
        return 0;
    size_t cap = c->scratch_cap ? c->scratch_cap : 65536;
    while (cap < need)
        cap *= 2;
    unsigned char *p = realloc(c->scratch, cap);
    if (!p)
        return -ENOMEM;
    c->scratch = p;
    c->scratch_cap = cap;
    return 0;
}

static int rtmp_write(void *state, const struct flv_tag *tag, int64_t ts_ms)
{
    struct rtmp_conn *c = state;
    if (c->failed)
        return c->fail_rc;
    if (net_cancelled(c->cancel_fd))
        return mark_failed(c, cancelled(c, "sending to"));
    RTMP *r = c->rtmp;
    if (!RTMP_IsConnected(r)) {
        log_warn("rtmp", "connection to %s is closed", c->where);
        return mark_failed(c, -ECONNRESET);
    }
    int rc = drain(c);
    if (rc < 0)
        return mark_failed(c, rc);

    /* Publishers send metadata as "@setDataFrame" "onMetaData" {…}; accept the file form too. */
    size_t prefix = 0;
    if (tag->type == FLV_TAG_SCRIPT && tag->size >= sizeof(amf_on_metadata) &&
        memcmp(tag->body, amf_on_metadata, sizeof(amf_on_metadata)) == 0)
        prefix = sizeof(amf_set_data_frame);
    size_t size = prefix + tag->size;
    if (size > 0xffffff) {
        log_warn("rtmp", "dropping a %zu-byte tag: larger than an RTMP message can be", size);
        return 0;
    }
    if (reserve_scratch(c, size) < 0)
        return -ENOMEM;
    /* librtmp writes chunk headers into the body in place, and tag bodies are shared with
     * the other outputs: send a copy. */
    unsigned char *body = c->scratch + RTMP_MAX_HEADER_SIZE;
    memcpy(body, amf_set_data_frame, prefix);
    memcpy(body + prefix, tag->body, tag->size);
    RTMPPacket pkt = {
        .m_headerType = RTMP_PACKET_SIZE_LARGE, /* absolute timestamp on every message */
        .m_packetType = (uint8_t)tag->type,     /* FLV tag types are RTMP message types */
        .m_nChannel = RTMP_DATA_CHANNEL,
        .m_nTimeStamp = (uint32_t)(ts_ms > 0 ? ts_ms : 0),
        .m_hasAbsTimestamp = TRUE,
        .m_nInfoField2 = c->stream_id,
        .m_nBodySize = (uint32_t)size,
        .m_body = (char *)body,
    };
    /* If the send fails librtmp closes the connection itself and, with a stream id set, first
     * tries FCUnpublish + deleteStream on the dead socket: another io_timeout. Hide the id. */
    r->m_stream_id = 0;
    errno = 0;
    bool ok = RTMP_SendPacket(r, &pkt, FALSE);
    int err_no = errno;
    if (!ok && net_cancelled(c->cancel_fd))
        return mark_failed(c, cancelled(c, "sending to"));
    if (!ok) {
        char why[256];
        io_failure_reason(c, err_no, why, sizeof(why));
        log_warn("rtmp", "sending to %s failed: %s", c->where, why);
        return mark_failed(c, err_no == EAGAIN || err_no == EWOULDBLOCK ? -ETIMEDOUT : -EPIPE);
    }
    r->m_stream_id = c->stream_id;
    return 0;
}

static void rtmp_close(void *state)
{
    struct rtmp_conn *c = state;
    if (!c)
        return;
    if (c->rtmp) {
        RTMP *r = c->rtmp;
        if (c->failed || net_cancelled(c->cancel_fd))
            r->m_stream_id = 0; /* no goodbye over a broken or abandoned connection */
        else if (RTMP_IsConnected(r))
            set_io_timeouts(r->m_sb.sb_socket, RTMP_CLOSE_TIMEOUT_MS);
        /* FCUnpublish + deleteStream while publishing, then closes librtmp's socket and frees
         * what librtmp allocated. The guard still runs: a cancel cuts the goodbye short. */
        RTMP_Close(r);
        RTMP_Free(r);
    }
    net_guard_stop(c->guard);
    /* The pump sees librtmp's end close only once no descriptor refers to it any more. */
    if (c->guard_fd >= 0)
        close(c->guard_fd);
    /* The pump watches the cancel fd too, so its linger ends at once on a cancel. */
    tls_pump_stop(c->pump, RTMP_CLOSE_TIMEOUT_MS);
    tls_free(c->tls);
    if (c->tcp_fd >= 0)
        close(c->tcp_fd);
    if (!c->failed)
        log_debug("rtmp", "closed %s", c->display);
    free(c->librtmp_url);
    free(c->scratch);
    free(c);
}

const struct output_backend_ops output_rtmp_backend = {
    .name = "rtmp",
    .retry = true,
    .open = rtmp_open,
    .write = rtmp_write,
    .close = rtmp_close,
};
