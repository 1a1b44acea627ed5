/* The bench's FCM v1 stub: one epoll thread speaking HTTP/1.1 keep-alive, so the stub is never the bottleneck.
 *
 *   fast_stub serve PORT              answer FCM sends (any POST .../messages:send) and topic management with 200;
 *                                     GET /stats answers {"requests": R, "sent": S}; prints "listening PORT"
 *   fast_stub blast PORT SECONDS CONNS  the stub's own ceiling: CONNS keep-alive connections, one FCM-sized
 *                                     request in flight on each, for SECONDS; prints {"messages": N, "seconds": T}
 *
 * No TLS, no HTTP/2 (firebase-admin's requests client speaks HTTP/1.1 to an http:// URL). Built by the bench
 * (bench/fast_stub.py) with the system C compiler; no dependency beyond libc.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define MAX_REQUEST (1 << 20)

typedef struct {
    int fd;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
} conn_t;

static unsigned long long requests_count = 0, sent_count = 0;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void append_out(conn_t *c, const char *data, size_t n) {
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2;
        c->out = realloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

static void respond(conn_t *c, int status, const char *body) {
    char head[256];
    size_t n = strlen(body);
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: %zu\r\n\r\n",
                     status, status == 200 ? "OK" : "Not Found", n);
    append_out(c, head, (size_t)h);
    append_out(c, body, n);
}

static long content_length(const char *headers, size_t len) {
    const char *p = headers, *end = headers + len;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0) return strtol(p + 15, NULL, 10);
        p = eol + 2;
    }
    return 0;
}

/* Handle every complete request in the input buffer; returns -1 on a malformed or oversized one. */
static int handle_input(conn_t *c) {
    size_t off = 0;
    for (;;) {
        char *start = c->in + off;
        size_t avail = c->in_len - off;
        char *hend = memmem(start, avail, "\r\n\r\n", 4);
        if (!hend) {
            if (avail > MAX_REQUEST) return -1;
            break;
        }
        size_t head_len = (size_t)(hend - start) + 4;
        long body_len = content_length(start, head_len);
        if (body_len < 0 || body_len > MAX_REQUEST) return -1;
        if (avail < head_len + (size_t)body_len) break;
        requests_count++;
        char *sp = memchr(start, ' ', head_len);
        char *path = sp ? sp + 1 : start;
        char *path_end = memchr(path, ' ', head_len - (size_t)(path - start));
        size_t path_len = path_end ? (size_t)(path_end - path) : 0;
        if (path_len >= 6 && strncmp(path, "/stats", 6) == 0) {
            char body[128];
            snprintf(body, sizeof body, "{\"requests\": %llu, \"sent\": %llu}", requests_count, sent_count);
            respond(c, 200, body);
        } else if (path_len >= 14 && memmem(path, path_len, "/messages:send", 14)) {
            char body[128];
            sent_count++;
            snprintf(body, sizeof body, "{\"name\": \"projects/bench/messages/0:%llu%%stub\"}", sent_count);
            respond(c, 200, body);
        } else if (path_len >= 9 && memmem(path, path_len, ":batch", 6)) {
            respond(c, 200, "{\"results\": []}");
        } else {
            respond(c, 200, "{}");
        }
        off += head_len + (size_t)body_len;
    }
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return 0;
}

static int flush_out(conn_t *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

static void close_conn(int ep, conn_t *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static int serve(int port) {
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 1024) < 0) die("listen");
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    printf("listening %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    nonblocking(lfd);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[MAX_EVENTS];
    char buf[65536];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept(lfd, NULL, NULL)) >= 0) {
                    nonblocking(fd);
                    nodelay(fd);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            int dead = 0;
            if (events[i].events & EPOLLIN) {
                for (;;) {
                    ssize_t r = read(c->fd, buf, sizeof buf);
                    if (r > 0) {
                        if (c->in_len + (size_t)r > c->in_cap) {
                            c->in_cap = (c->in_len + (size_t)r) * 2;
                            c->in = realloc(c->in, c->in_cap);
                        }
                        memcpy(c->in + c->in_len, buf, (size_t)r);
                        c->in_len += (size_t)r;
                        continue;
                    }
                    if (r == 0) dead = 1;
                    else if (errno != EAGAIN && errno != EWOULDBLOCK) dead = 1;
                    break;
                }
                if (handle_input(c) < 0) dead = 1;
            }
            if (!dead) {
                int pending = flush_out(c);
                if (pending < 0) dead = 1;
                struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP | (pending > 0 ? EPOLLOUT : 0), .data.ptr = c};
                if (!dead) epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
            }
            if (dead || (events[i].events & (EPOLLERR | EPOLLHUP))) close_conn(ep, c);
        }
    }
    return 0;
}

/* The ceiling: CONNS connections, each with one request of a real FCM message's size in flight. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int blast(int port, double seconds, int conns) {
    static const char body[] =
        "{\"message\": {\"data\": {\"public_status\": \"proses\", \"type\": \"report.status_changed\", "
        "\"notification_id\": \"0b8f7a52-6c1e-4a57-9d43-3f1a7c2e9b10\"}, \"notification\": {\"title\": \"Status "
        "laporan diperbarui\", \"body\": \"Laporan Anda kini berstatus proses.\"}, \"android\": {\"collapse_key\": "
        "\"report-bench-1\", \"priority\": \"normal\"}, \"apns\": {\"headers\": {\"apns-priority\": \"5\", "
        "\"apns-collapse-id\": \"report-bench-1\"}, \"payload\": {\"aps\": {}}}, \"webpush\": {\"headers\": "
        "{\"Urgency\": \"normal\"}}, \"fid\": \"t-d-token-123456\"}}";
    char request[2048];
    int rlen = snprintf(request, sizeof request,
                        "POST /v1/projects/bench/messages:send HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "User-Agent: fast-stub-blast\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\n"
                        "Connection: keep-alive\r\nX-GOOG-API-FORMAT-VERSION: 2\r\n"
                        "X-FIREBASE-CLIENT: fire-admin-python/7.7.0\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n%s",
                        port, sizeof body - 1, body);
    int ep = epoll_create1(0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int *fds = calloc((size_t)conns, sizeof(int));
    for (int i = 0; i < conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fds[i], (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        nodelay(fds[i]);
        nonblocking(fds[i]);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        if (write(fds[i], request, (size_t)rlen) != rlen) die("write");
    }
    unsigned long long done = 0;
    double began = now_s(), stop = began + seconds;
    struct epoll_event events[MAX_EVENTS];
    char buf[65536];
    while (now_s() < stop) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 100);
        for (int i = 0; i < n; i++) {
            int fd = fds[events[i].data.u32];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) continue;
            /* Responses are small and arrive whole: count the status lines in what was read. */
            for (char *p = buf; (p = memmem(p, (size_t)(buf + r - p), "HTTP/1.1 200", 12)); p += 12) {
                done++;
                if (write(fd, request, (size_t)rlen) != rlen) die("write");
            }
        }
    }
    double elapsed = now_s() - began;
    printf("{\"messages\": %llu, \"seconds\": %.3f, \"connections\": %d}\n", done, elapsed, conns);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]));
    if (argc >= 5 && strcmp(argv[1], "blast") == 0) return blast(atoi(argv[2]), atof(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: fast_stub serve PORT | fast_stub blast PORT SECONDS CONNS\n");
    return 2;
}
