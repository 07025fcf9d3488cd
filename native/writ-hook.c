/*
 * writ-hook: the hook command Claude Code runs; it hands the hook's stdin to
 * the resident Writ daemon and prints the daemon's answer.
 *
 *   writ-hook [--home DIR] [--timeout-ms N] enforce|record
 *
 * Claude Code lets a tool call proceed on every hook exit code except 2, on a
 * hook timeout and on a missing hook binary. So in `enforce` mode every
 * failure (no daemon, timeout, error status, malformed answer, oversized
 * input, out of memory) ends in exit 2 with one line on stderr, and the shim
 * keeps its own deadline, well inside Claude Code's hook timeout; a payload it
 * denied that way is also spooled, so the journal learns of it. In `record`
 * mode nothing may block the agent: when the daemon does not take the event,
 * the payload is spooled to DIR/spool for the daemon to pick up later, and
 * the shim exits 0.
 *
 * Plain C99 + POSIX so that it builds with any cc on Linux and macOS; it
 * exists because starting Node for every tool call costs ~70 ms.
 */
#define _POSIX_C_SOURCE 200809L
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EXIT_DENY 2
#define ENFORCE_TIMEOUT_MS 800
#define RECORD_TIMEOUT_MS 300
/* Record mode must still finish inside Claude Code's 5 s hook timeout. */
#define RECORD_STDIN_TIMEOUT_MS 4000
#define STDIN_LIMIT ((size_t)64 << 20)
#define RESPONSE_LIMIT ((size_t)16 << 20)
#define IO_CHUNK ((size_t)64 << 10)
#define REASON_MAX 1024
#define STATUS_TEXT_MAX 600

enum mode { MODE_ENFORCE, MODE_RECORD };

enum failure_kind {
    FAIL_NONE,
    FAIL_USAGE,
    FAIL_INPUT,       /* reading the hook's stdin */
    FAIL_UNREACHABLE, /* socket, connect, send, receive errors */
    FAIL_TIMEOUT,
    FAIL_STATUS,      /* the daemon answered something other than 200 */
    FAIL_MALFORMED,
    FAIL_MEMORY,
    FAIL_OUTPUT       /* writing the answer to stdout */
};

struct failure {
    enum failure_kind kind;
    char detail[REASON_MAX];
};

struct buffer {
    char *data;
    size_t len;
    size_t cap;
};

struct http_response {
    int status;
    char *body;
    size_t body_len;
};

enum parse_result { PARSE_INCOMPLETE, PARSE_COMPLETE, PARSE_MALFORMED };

static void fail(struct failure *f, enum failure_kind kind, const char *fmt, ...) {
    va_list args;
    f->kind = kind;
    va_start(args, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, args);
    va_end(args);
}

static long long monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(long long deadline) {
    long long left = deadline - monotonic_ms();
    if (left <= 0) return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Makes room to read into b: 1 = b already holds `limit` bytes, -1 = out of memory. */
static int buffer_make_room(struct buffer *b, size_t limit) {
    size_t cap;
    char *data;
    if (b->len < b->cap) return 0;
    if (b->cap >= limit) return 1;
    cap = b->cap == 0 ? (IO_CHUNK < limit ? IO_CHUNK : limit) : b->cap > limit / 2 ? limit : b->cap * 2;
    data = realloc(b->data, cap);
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

/* Waits for `events` on fd until the deadline: 1 = ready, 0 = timed out, -1 = error. */
static int wait_for(int fd, short events, long long deadline, short *revents) {
    for (;;) {
        struct pollfd p;
        int left = remaining_ms(deadline), r;
        if (left == 0) return 0;
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        r = poll(&p, 1, left);
        if (r > 0) {
            *revents = p.revents;
            return 1;
        }
        if (r == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/*
 * Reads all of stdin before the deadline. stdin stays blocking: poll() says
 * when a read() will not block, and O_NONBLOCK would leak into the file
 * description the parent shares.
 */
static int read_stdin(struct buffer *in, long long deadline, int timeout_ms, struct failure *f) {
    for (;;) {
        short revents = 0;
        ssize_t n;
        /* One byte over the limit is enough to know the input is too large. */
        int ready, room = buffer_make_room(in, STDIN_LIMIT + 1);
        if (room < 0) {
            fail(f, FAIL_MEMORY, "reading %zu bytes of hook input", in->len);
            return -1;
        }
        ready = wait_for(STDIN_FILENO, POLLIN, deadline, &revents);
        if (ready == 0) {
            fail(f, FAIL_INPUT, "it did not end within %d ms", timeout_ms);
            return -1;
        }
        if (ready < 0) {
            fail(f, FAIL_INPUT, "poll stdin: %s", strerror(errno));
            return -1;
        }
        n = read(STDIN_FILENO, in->data + in->len, in->cap - in->len);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            fail(f, FAIL_INPUT, "read stdin: %s", strerror(errno));
            return -1;
        }
        in->len += (size_t)n;
        if (in->len > STDIN_LIMIT) {
            fail(f, FAIL_INPUT, "the hook input is larger than %zu MiB", STDIN_LIMIT >> 20);
            return -1;
        }
    }
}

static const char *find_bytes(const char *hay, size_t hay_len, const char *needle, size_t needle_len) {
    size_t i;
    if (needle_len > hay_len) return NULL;
    for (i = 0; i + needle_len <= hay_len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, needle_len) == 0) return hay + i;
    return NULL;
}

/* Strict decimal or hex number; returns 0 on success. */
static int parse_size(const char *s, size_t len, int base, size_t *out) {
    size_t value = 0, i;
    if (len == 0) return -1;
    for (i = 0; i < len; i++) {
        int digit;
        char c = s[i];
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        else return -1;
        if (value > (SIZE_MAX - (size_t)digit) / (size_t)base) return -1;
        value = value * (size_t)base + (size_t)digit;
    }
    *out = value;
    return 0;
}

static void trim_span(const char **start, size_t *len) {
    while (*len && (**start == ' ' || **start == '\t')) (*start)++, (*len)--;
    while (*len && ((*start)[*len - 1] == ' ' || (*start)[*len - 1] == '\t')) (*len)--;
}

/*
 * Walks a chunked body starting at `p`. With `decode`, also moves the chunk
 * data together in place (safe: the write position never passes the read
 * position), which is only done once the body is known to be complete.
 */
static enum parse_result walk_chunks(char *p, char *end, int decode, size_t *decoded_len, const char **why) {
    char *write = p;
    for (;;) {
        const char *eol = find_bytes(p, (size_t)(end - p), "\r\n", 2);
        const char *size_end;
        size_t size;
        if (!eol) return PARSE_INCOMPLETE;
        size_end = memchr(p, ';', (size_t)(eol - p));
        if (!size_end) size_end = eol;
        {
            const char *digits = p;
            size_t digits_len = (size_t)(size_end - p);
            trim_span(&digits, &digits_len);
            if (parse_size(digits, digits_len, 16, &size) != 0) {
                *why = "a chunk size is not a hex number";
                return PARSE_MALFORMED;
            }
        }
        p = (char *)eol + 2;
        if (size == 0) {
            /* Trailer lines, then an empty line. */
            for (;;) {
                const char *line_end = find_bytes(p, (size_t)(end - p), "\r\n", 2);
                if (!line_end) return PARSE_INCOMPLETE;
                if (line_end == p) return PARSE_COMPLETE;
                p = (char *)line_end + 2;
            }
        }
        if ((size_t)(end - p) < size || (size_t)(end - p) - size < 2) return PARSE_INCOMPLETE;
        if (p[size] != '\r' || p[size + 1] != '\n') {
            *why = "a chunk does not end with CRLF";
            return PARSE_MALFORMED;
        }
        if (decode) {
            memmove(write, p, size);
            write += size;
            *decoded_len += size;
        }
        p += size + 2;
    }
}

/*
 * Parses an HTTP/1.x response held in data[0..len). Before EOF it only says
 * whether the response is complete, so the shim need not wait for the
 * daemon to close; at EOF an unfinished response is malformed, because a
 * truncated deny must never pass as an answer.
 */
static enum parse_result parse_response(char *data, size_t len, int eof, struct http_response *out, const char **why) {
    char *end = data + len;
    for (;;) {
        const char *head_end = find_bytes(data, (size_t)(end - data), "\r\n\r\n", 4);
        const char *line, *next;
        char *body;
        size_t content_length = 0;
        int has_length = 0, chunked = 0, status;
        if (!head_end) {
            *why = "the answer ended inside its headers";
            return eof ? PARSE_MALFORMED : PARSE_INCOMPLETE;
        }
        if ((size_t)(head_end - data) < 12 || memcmp(data, "HTTP/1.", 7) != 0 || data[8] != ' ' ||
            data[9] < '0' || data[9] > '9' || data[10] < '0' || data[10] > '9' || data[11] < '0' ||
            data[11] > '9' || (data[12] != ' ' && data[12] != '\r')) {
            *why = "the status line is not HTTP/1.x";
            return PARSE_MALFORMED;
        }
        status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
        line = find_bytes(data, (size_t)(head_end + 2 - data), "\r\n", 2) + 2;
        for (; line < head_end + 2; line = next + 2) {
            const char *colon, *value;
            size_t name_len, value_len;
            next = find_bytes(line, (size_t)(head_end + 2 - line), "\r\n", 2);
            colon = memchr(line, ':', (size_t)(next - line));
            if (!colon) {
                *why = "a header line has no colon";
                return PARSE_MALFORMED;
            }
            name_len = (size_t)(colon - line);
            value = colon + 1;
            value_len = (size_t)(next - value);
            trim_span(&value, &value_len);
            if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
                size_t parsed;
                if (parse_size(value, value_len, 10, &parsed) != 0 || (has_length && parsed != content_length)) {
                    *why = "the Content-Length header is not one number";
                    return PARSE_MALFORMED;
                }
                content_length = parsed;
                has_length = 1;
            } else if (name_len == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
                /* The only coding a server may apply last is chunked. */
                chunked = value_len >= 7 && strncasecmp(value + value_len - 7, "chunked", 7) == 0;
                if (!chunked) {
                    *why = "the answer uses a transfer coding other than chunked";
                    return PARSE_MALFORMED;
                }
            }
        }
        body = (char *)head_end + 4;
        if (status >= 100 && status < 200) {
            /* An interim answer (100 Continue): the real one follows it. */
            data = body;
            continue;
        }
        out->status = status;
        out->body = body;
        if (chunked) {
            size_t decoded = 0;
            enum parse_result r = walk_chunks(body, end, 0, &decoded, why);
            if (r == PARSE_INCOMPLETE && eof) *why = "the chunked answer was cut short";
            if (r != PARSE_COMPLETE) return r == PARSE_INCOMPLETE && eof ? PARSE_MALFORMED : r;
            decoded = 0;
            walk_chunks(body, end, 1, &decoded, why);
            out->body_len = decoded;
            return PARSE_COMPLETE;
        }
        if (has_length) {
            if ((size_t)(end - body) >= content_length) {
                out->body_len = content_length;
                return PARSE_COMPLETE;
            }
            *why = "the answer was cut short before its Content-Length";
            return eof ? PARSE_MALFORMED : PARSE_INCOMPLETE;
        }
        /* No framing: the body runs to the end of the connection. */
        out->body_len = (size_t)(end - body);
        return eof ? PARSE_COMPLETE : PARSE_INCOMPLETE;
    }
}

static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int connect_daemon(const char *socket_path, long long deadline, int timeout_ms, struct failure *f) {
    struct sockaddr_un address;
    size_t path_len = strlen(socket_path);
    int fd;
    if (path_len >= sizeof address.sun_path) {
        fail(f, FAIL_UNREACHABLE, "the socket path %s is %zu bytes long, more than the %zu a Unix socket allows",
             socket_path, path_len, sizeof address.sun_path - 1);
        return -1;
    }
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, socket_path, path_len + 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || set_nonblocking(fd) < 0) {
        fail(f, FAIL_UNREACHABLE, "socket: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    for (;;) {
        short revents = 0;
        int ready, error = 0;
        socklen_t error_len = sizeof error;
        if (connect(fd, (struct sockaddr *)&address, sizeof address) == 0) return fd;
        if (errno == EAGAIN) {
            /* Linux: the daemon's accept backlog is full. Retry until the deadline. */
            struct timespec pause = {0, 2 * 1000 * 1000};
            if (remaining_ms(deadline) == 0) break;
            nanosleep(&pause, NULL);
            continue;
        }
        if (errno != EINPROGRESS && errno != EINTR) {
            fail(f, FAIL_UNREACHABLE, "connect: %s at %s", strerror(errno), socket_path);
            close(fd);
            return -1;
        }
        ready = wait_for(fd, POLLOUT, deadline, &revents);
        if (ready == 0) break;
        if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) < 0) error = errno;
        if (error != 0) {
            fail(f, FAIL_UNREACHABLE, "connect: %s at %s", strerror(error), socket_path);
            close(fd);
            return -1;
        }
        return fd;
    }
    fail(f, FAIL_TIMEOUT, "%d ms (connecting to %s)", timeout_ms, socket_path);
    close(fd);
    return -1;
}

/*
 * Sends the request and reads the answer in one poll loop, so a daemon that
 * answers (say, an error) before it has read the whole body cannot deadlock
 * the shim, and the deadline covers every step.
 */
/*
 * The task contract `writ run --contract` gave this session: its sha256 in lowercase hex. Anything else in
 * WRIT_CONTRACT is sent as "invalid", which the daemon denies, so a mangled variable never drops the contract
 * and never injects a header.
 */
static const char *contract_header(char *line, size_t size) {
    const char *id = getenv("WRIT_CONTRACT");
    size_t i;
    if (!id || !*id) return "";
    for (i = 0; id[i]; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) break;
    snprintf(line, size, "X-Writ-Contract: %s\r\n", (i == 64 && id[i] == '\0') ? id : "invalid");
    return line;
}

static int exchange(const char *socket_path, const char *mode_name, const struct buffer *payload, long long deadline,
                    int timeout_ms, struct http_response *response, struct buffer *raw, struct failure *f) {
    char head[512], contract[96];
    const char *segments[2];
    size_t lengths[2], segment = 0, offset = 0;
    int fd, head_len, sending = 1, eof = 0;
    const char *why = "";
    enum parse_result parsed = PARSE_INCOMPLETE;

    head_len = snprintf(head, sizeof head,
                        "POST /v1/hooks/claude-code HTTP/1.1\r\n"
                        "Host: localhost\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %zu\r\n"
                        "X-Writ-Mode: %s\r\n"
                        "%s"
                        "Connection: close\r\n\r\n",
                        payload->len, mode_name, contract_header(contract, sizeof contract));
    segments[0] = head;
    lengths[0] = (size_t)head_len;
    segments[1] = payload->data;
    lengths[1] = payload->len;

    fd = connect_daemon(socket_path, deadline, timeout_ms, f);
    if (fd < 0) return -1;

    while (parsed == PARSE_INCOMPLETE && !eof) {
        short revents = 0;
        int ready = wait_for(fd, (short)(POLLIN | (sending ? POLLOUT : 0)), deadline, &revents);
        if (ready == 0) {
            fail(f, FAIL_TIMEOUT, "%d ms (%s %s)", timeout_ms,
                 sending ? "sending the request to" : "waiting for the answer from", socket_path);
            close(fd);
            return -1;
        }
        if (ready < 0) {
            fail(f, FAIL_UNREACHABLE, "poll: %s", strerror(errno));
            close(fd);
            return -1;
        }
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n;
            int room = buffer_make_room(raw, RESPONSE_LIMIT);
            if (room != 0) {
                if (room < 0) fail(f, FAIL_MEMORY, "reading the daemon's answer");
                else fail(f, FAIL_MALFORMED, "the answer is larger than %zu MiB", RESPONSE_LIMIT >> 20);
                close(fd);
                return -1;
            }
            n = read(fd, raw->data + raw->len, raw->cap - raw->len);
            if (n > 0) {
                raw->len += (size_t)n;
                parsed = parse_response(raw->data, raw->len, 0, response, &why);
            } else if (n == 0 || errno == ECONNRESET) {
                eof = 1;
            } else if (errno != EINTR && errno != EAGAIN) {
                fail(f, FAIL_UNREACHABLE, "read: %s from %s", strerror(errno), socket_path);
                close(fd);
                return -1;
            }
        }
        if (sending && parsed == PARSE_INCOMPLETE && !eof && (revents & POLLOUT)) {
            ssize_t n = write(fd, segments[segment] + offset, lengths[segment] - offset);
            if (n >= 0) {
                offset += (size_t)n;
                while (sending && offset == lengths[segment]) {
                    offset = 0;
                    if (++segment == 2) sending = 0;
                }
            } else if (errno == EPIPE || errno == ECONNRESET) {
                /* The daemon stopped reading; what it said, if anything, is still to be read. */
                sending = 0;
            } else if (errno != EINTR && errno != EAGAIN) {
                fail(f, FAIL_UNREACHABLE, "write: %s to %s", strerror(errno), socket_path);
                close(fd);
                return -1;
            }
        }
    }
    close(fd);
    if (parsed == PARSE_INCOMPLETE) {
        if (raw->len == 0) {
            fail(f, FAIL_MALFORMED, "the daemon closed the connection without answering");
            return -1;
        }
        parsed = parse_response(raw->data, raw->len, 1, response, &why);
    }
    if (parsed != PARSE_COMPLETE) {
        fail(f, FAIL_MALFORMED, "%s", why);
        return -1;
    }
    if (response->status != 200) {
        /* One line of the daemon's own text: whitespace folded, UTF-8 cut on a character boundary. */
        size_t i, used = 0, start = 0, len = response->body_len;
        char text[STATUS_TEXT_MAX + 4];
        const char *body = response->body;
        while (start < len && (unsigned char)body[start] <= ' ') start++;
        while (len > start && (unsigned char)body[len - 1] <= ' ') len--;
        for (i = start; i < len && used < STATUS_TEXT_MAX; i++) {
            unsigned char c = (unsigned char)body[i];
            if (c <= ' ' || c == 0x7f) {
                if (used && text[used - 1] != ' ') text[used++] = ' ';
            } else {
                text[used++] = (char)c;
            }
        }
        if (i < len) {
            while (used && ((unsigned char)text[used - 1] & 0xC0) == 0x80) used--;
            if (used && ((unsigned char)text[used - 1] & 0xC0) == 0xC0) used--;
            memcpy(text + used, "...", 3);
            used += 3;
        }
        text[used] = '\0';
        fail(f, FAIL_STATUS, "HTTP %d%s%s", response->status, used ? ": " : " with no explanation", text);
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd p;
                p.fd = fd;
                p.events = POLLOUT;
                poll(&p, 1, 100);
                continue;
            }
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void fill_random(unsigned char *out, size_t len) {
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (got < len) {
            ssize_t n = read(fd, out + got, len - got);
            if (n > 0) got += (size_t)n;
            else if (n == 0 || errno != EINTR) break;
        }
        close(fd);
    }
    if (got < len) {
        /* No /dev/urandom: time, pid and a stack address still separate concurrent shims. */
        struct timespec ts;
        uint64_t mix;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        mix = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&ts;
        for (; got < len; got++, mix = mix * 6364136223846793005ULL + 1442695040888963407ULL)
            out[got] = (unsigned char)(mix >> 56);
    }
}

static int make_private_dir(const char *path) {
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/*
 * Spools the payload durably as DIR/spool/<unix-nanos>-<pid>-<random>.json:
 * written under a .tmp name that the daemon ignores, fsynced, then renamed,
 * so the daemon never reads half a payload.
 */
static int spool_payload(const char *home, const struct buffer *payload, struct failure *f) {
    size_t home_len = strlen(home);
    char *spool_dir = malloc(home_len + sizeof "/spool");
    char *tmp_path = malloc(home_len + 128), *final_path = malloc(home_len + 128);
    int attempt, fd = -1, dir_fd, status = -1;
    if (!spool_dir || !tmp_path || !final_path) {
        fail(f, FAIL_MEMORY, "building the spool path");
        goto done;
    }
    memcpy(spool_dir, home, home_len);
    memcpy(spool_dir + home_len, "/spool", sizeof "/spool");
    if (make_private_dir(home) < 0 || make_private_dir(spool_dir) < 0) {
        fail(f, FAIL_OUTPUT, "mkdir %s: %s", spool_dir, strerror(errno));
        goto done;
    }
    for (attempt = 0; attempt < 8 && fd < 0; attempt++) {
        struct timespec now;
        unsigned char random_bytes[8];
        unsigned long long random_value = 0;
        size_t i;
        clock_gettime(CLOCK_REALTIME, &now);
        fill_random(random_bytes, sizeof random_bytes);
        for (i = 0; i < sizeof random_bytes; i++) random_value = random_value << 8 | random_bytes[i];
        snprintf(final_path, home_len + 128, "%s/%010lld%09ld-%ld-%016llx.json", spool_dir, (long long)now.tv_sec,
                 (long)now.tv_nsec, (long)getpid(), random_value);
        snprintf(tmp_path, home_len + 128, "%s.tmp", final_path);
        fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        fail(f, FAIL_OUTPUT, "create %s: %s", tmp_path, strerror(errno));
        goto done;
    }
    /* The umask can only narrow 0600; fchmod makes the mode exact anyway. */
    if (fchmod(fd, 0600) < 0 || write_all(fd, payload->data, payload->len) < 0 || fsync(fd) < 0) {
        fail(f, FAIL_OUTPUT, "write %s: %s", tmp_path, strerror(errno));
        close(fd);
        unlink(tmp_path);
        goto done;
    }
    if (close(fd) < 0 || rename(tmp_path, final_path) < 0) {
        fail(f, FAIL_OUTPUT, "finish %s: %s", final_path, strerror(errno));
        unlink(tmp_path);
        goto done;
    }
    /* Make the rename itself durable; some file systems refuse to fsync a directory, which is fine. */
    dir_fd = open(spool_dir, O_RDONLY | O_CLOEXEC);
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    status = 0;
done:
    free(spool_dir);
    free(tmp_path);
    free(final_path);
    return status;
}

/* What Claude Code shows the model for each failure; %s is the detail. */
static const char *const DENIAL_TEXT[] = {
    [FAIL_USAGE] = "the Writ hook is misconfigured (%s). Usage: writ-hook [--home DIR] [--timeout-ms N] enforce|record",
    [FAIL_INPUT] = "could not read the hook input (%s).",
    [FAIL_UNREACHABLE] = "the Writ daemon did not answer (%s). Start it with 'writ daemon'.",
    [FAIL_TIMEOUT] = "the Writ daemon did not answer within %s. Check that 'writ daemon' is running.",
    [FAIL_STATUS] = "the Writ daemon answered %s",
    [FAIL_MALFORMED] = "the Writ daemon's answer could not be read (%s).",
    [FAIL_MEMORY] = "the Writ hook ran out of memory (%s).",
    [FAIL_OUTPUT] = "could not pass the Writ daemon's answer on (%s).",
};

static void print_denial(const struct failure *f) {
    /* A NULL format would crash, and a crash fails open. */
    const char *text = DENIAL_TEXT[f->kind] ? DENIAL_TEXT[f->kind] : "an unexpected failure (%s).";
    fputs("Writ denied this action: ", stderr);
    fprintf(stderr, text, f->detail);
    fputc('\n', stderr);
}

/* Writ's home: --home, else $WRIT_HOME, else ~/.writ (as the daemon resolves it). */
static char *resolve_home(const char *flag_home, struct failure *f) {
    const char *base = flag_home, *suffix = "";
    char *home;
    if (!base || !*base) base = getenv("WRIT_HOME");
    if (!base || !*base) {
        struct passwd *user;
        base = getenv("HOME");
        if ((!base || !*base) && (user = getpwuid(getuid())) != NULL) base = user->pw_dir;
        if (!base || !*base) {
            fail(f, FAIL_USAGE, "neither --home, WRIT_HOME nor HOME is set");
            return NULL;
        }
        suffix = "/.writ";
    }
    home = malloc(strlen(base) + strlen(suffix) + 1);
    if (!home) {
        fail(f, FAIL_MEMORY, "resolving Writ's home");
        return NULL;
    }
    strcpy(home, base);
    strcat(home, suffix);
    return home;
}

/* Enforce: the daemon's 200 body on stdout and exit 0, or one line on stderr and exit 2. A denial the
 * daemon did not make is spooled too (best effort), so the journal learns of the call and its denial. */
static int run_enforce(const char *home, const char *socket_path, int timeout_ms, long long started,
                       struct buffer *payload, struct buffer *raw) {
    struct failure failure, spool_failure;
    struct http_response response = {0, NULL, 0};
    /* One deadline from start to finish: a stalled stdin must not let Claude Code's own timeout fire first. */
    long long deadline = started + timeout_ms;
    memset(&failure, 0, sizeof failure);
    memset(&spool_failure, 0, sizeof spool_failure);
    if (read_stdin(payload, deadline, timeout_ms, &failure) == 0 &&
        exchange(socket_path, "enforce", payload, deadline, timeout_ms, &response, raw, &failure) == 0) {
        if (write_all(STDOUT_FILENO, response.body, response.body_len) == 0) return 0;
        fail(&failure, FAIL_OUTPUT, "write stdout: %s", strerror(errno));
    }
    print_denial(&failure);
    if (failure.kind != FAIL_INPUT && failure.kind != FAIL_MEMORY && failure.kind != FAIL_OUTPUT) spool_payload(home, payload, &spool_failure);
    return EXIT_DENY;
}

/* Record: the daemon's answer if it takes the event, else the payload spooled; always exit 0. */
static int run_record(const char *home, const char *socket_path, int timeout_ms, long long started,
                      struct buffer *payload, struct buffer *raw) {
    struct failure failure, spool_failure;
    struct http_response response = {0, NULL, 0};
    memset(&failure, 0, sizeof failure);
    memset(&spool_failure, 0, sizeof spool_failure);
    if (read_stdin(payload, started + RECORD_STDIN_TIMEOUT_MS, RECORD_STDIN_TIMEOUT_MS, &failure) != 0) {
        fprintf(stderr, "writ-hook: this event was not recorded (%s).\n", failure.detail);
        return 0;
    }
    if (exchange(socket_path, "record", payload, monotonic_ms() + timeout_ms, timeout_ms, &response, raw, &failure) == 0)
        write_all(STDOUT_FILENO, response.body, response.body_len);
    else if (spool_payload(home, payload, &spool_failure) != 0)
        fprintf(stderr, "writ-hook: this event was not recorded: the daemon did not take it (%s) and spooling failed (%s).\n",
                failure.detail, spool_failure.detail);
    return 0;
}

int main(int argc, char **argv) {
    struct failure failure;
    struct buffer payload = {NULL, 0, 0}, raw = {NULL, 0, 0};
    const char *flag_home = NULL, *mode_name = NULL;
    char *home = NULL, *socket_path = NULL;
    enum mode mode = MODE_ENFORCE;
    long long started = monotonic_ms();
    int timeout_ms = -1, i, exit_code;

    /* A daemon that hangs up must surface as EPIPE, never as a signal death (which fails open). */
    signal(SIGPIPE, SIG_IGN);
    memset(&failure, 0, sizeof failure);

    /* Parse the whole command line even after an error, so that a record hook never exits 2. */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
            flag_home = argv[++i];
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            size_t value;
            const char *text = argv[++i];
            if (parse_size(text, strlen(text), 10, &value) == 0 && value >= 1 && value <= 600000)
                timeout_ms = (int)value;
            else if (failure.kind == FAIL_NONE)
                fail(&failure, FAIL_USAGE, "--timeout-ms wants 1 to 600000, not '%s'", text);
        } else if (!mode_name && (strcmp(argv[i], "enforce") == 0 || strcmp(argv[i], "record") == 0)) {
            mode_name = argv[i];
            mode = strcmp(mode_name, "record") == 0 ? MODE_RECORD : MODE_ENFORCE;
        } else if (failure.kind == FAIL_NONE) {
            fail(&failure, FAIL_USAGE, "unexpected argument '%s'", argv[i]);
        }
    }
    if (failure.kind == FAIL_NONE && !mode_name) fail(&failure, FAIL_USAGE, "enforce or record is missing");
    if (failure.kind == FAIL_NONE) home = resolve_home(flag_home, &failure);
    if (failure.kind == FAIL_NONE) {
        socket_path = malloc(strlen(home) + sizeof "/writ.sock");
        if (!socket_path) fail(&failure, FAIL_MEMORY, "building the socket path");
        else strcat(strcpy(socket_path, home), "/writ.sock");
    }

    if (failure.kind != FAIL_NONE && mode == MODE_RECORD) {
        fprintf(stderr, "writ-hook: this event was not recorded (%s).\n", failure.detail);
        exit_code = 0;
    } else if (failure.kind != FAIL_NONE) {
        print_denial(&failure);
        exit_code = EXIT_DENY;
    } else if (mode == MODE_ENFORCE) {
        exit_code = run_enforce(home, socket_path, timeout_ms < 0 ? ENFORCE_TIMEOUT_MS : timeout_ms, started, &payload, &raw);
    } else {
        exit_code = run_record(home, socket_path, timeout_ms < 0 ? RECORD_TIMEOUT_MS : timeout_ms, started, &payload,
                               &raw);
    }
    free(payload.data);
    free(raw.data);
    free(home);
    free(socket_path);
    return exit_code;
}
