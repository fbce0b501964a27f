/* storm.c - a boot storm driver: N simulated iPXE clients, each on one keep-alive connection,
 * each boot = GET the per-machine script (a new MAC every boot), then the kernel and initrd
 * URLs from that script's `kernel` and `initrd` lines; no think time. One thread, epoll,
 * non-blocking sockets. Checks every status and body length; prints one line of results.
 *
 * usage: storm HOST:PORT CLIENTS SECONDS KERNEL_BYTES INITRD_BYTES SCRIPT_PREFIX [SPREAD]
 *   SCRIPT_PREFIX  e.g. "/ipxe?mac=": the MAC (02:xx:xx:xx:xx:xx, unique per boot) is appended
 *   SPREAD         1: client i connects from 127.0.(i/200).(i%200+2), one address per client
 *                  (a rack of machines); 0 (default): every client from 127.0.0.1 (one NAT address)
 * output: boots=B seconds=S boots_per_s=R p50_ms=X p99_ms=Y errors=E connects=C closes=L
 *         inflight=I clients_booted=K/N kinds=kind:n,... (or none); p50/p99 over the boots done
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STORM_HDR_MAX 8192
#define STORM_SCRIPT_MAX 8192
#define STORM_URL_MAX 1024
#define STORM_TIMEOUT_NS (10LL * 1000000000LL) /* no progress for this long: a timeout */
#define STORM_RETRY_NS (100LL * 1000000LL)     /* after an error, reconnect this much later */

enum storm_step { STORM_SCRIPT, STORM_KERNEL, STORM_INITRD };
enum storm_state { STORM_IDLE, STORM_CONNECTING, STORM_SENDING, STORM_HEADERS, STORM_BODY, STORM_WAIT };

struct storm_client {
	int id, fd;
	enum storm_state state;
	enum storm_step step;
	uint32_t src;           /* source address (host order), 0: any */
	long long boot_start;   /* ns: the script request's start */
	long long last_progress, wake_at;
	unsigned long boot_seq;
	unsigned long booted;   /* boots completed in time */
	char req[2048];
	size_t req_len, req_off;
	char hdr[STORM_HDR_MAX];
	size_t hdr_len;
	long long content_length, body_got;
	int close_after;
	char script[STORM_SCRIPT_MAX];
	char kernel[STORM_URL_MAX], initrd[STORM_URL_MAX];
};

/* Error kinds, counted by name. */
#define STORM_KINDS 32
static struct { char name[32]; unsigned long n; } storm_kinds[STORM_KINDS];
static unsigned long storm_errors, storm_closes, storm_connects;

static const char *storm_host; /* HOST:PORT */
static struct sockaddr_in storm_addr;
static const char *storm_prefix;
static long long storm_kernel_size, storm_initrd_size;
static int storm_epfd;
static long long *storm_lat; /* boot completion times, ns */
static size_t storm_nlat, storm_caplat;
static char storm_sink[1 << 18];

static long long storm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void storm_count(const char *kind)
{
	int i;

	storm_errors++;
	for (i = 0; i < STORM_KINDS && storm_kinds[i].name[0]; i++)
		if (!strcmp(storm_kinds[i].name, kind))
			break;
	if (i == STORM_KINDS)
		i = STORM_KINDS - 1;
	if (!storm_kinds[i].name[0])
		snprintf(storm_kinds[i].name, sizeof(storm_kinds[i].name), "%s", kind);
	storm_kinds[i].n++;
}

static void storm_close(struct storm_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* An error: counted by KIND, the connection dropped, the boot abandoned; retried later. */
static void storm_fail(struct storm_client *c, const char *kind, long long now)
{
	storm_count(kind);
	storm_close(c);
	c->state = STORM_WAIT;
	c->wake_at = now + STORM_RETRY_NS;
}

static int storm_watch(struct storm_client *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(storm_epfd, op, c->fd, &ev);
}

static void storm_connect(struct storm_client *c, long long now)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		storm_fail(c, "socket", now);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->src) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(c->src) };

		if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			storm_fail(c, "bind", now);
			return;
		}
	}
	storm_connects++;
	c->last_progress = now;
	if (connect(c->fd, (struct sockaddr *)&storm_addr, sizeof(storm_addr)) < 0 && errno != EINPROGRESS) {
		storm_fail(c, errno == ECONNREFUSED ? "refused" : "connect", now);
		return;
	}
	c->state = STORM_CONNECTING;
	if (storm_watch(c, EPOLLOUT, EPOLL_CTL_ADD) < 0)
		storm_fail(c, "epoll", now);
}

/* Queue a GET of PATH and switch to sending it. */
static void storm_request(struct storm_client *c, const char *path, long long now)
{
	int n = snprintf(c->req, sizeof(c->req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: iPXE/1.21.1 (storm)\r\n"
			 "Connection: keep-alive\r\n\r\n", path, storm_host);

	if (n < 0 || (size_t)n >= sizeof(c->req)) {
		storm_fail(c, "url-too-long", now);
		return;
	}
	c->req_len = (size_t)n;
	c->req_off = 0;
	c->hdr_len = 0;
	c->body_got = 0;
	c->content_length = -1;
	c->close_after = 0;
	c->state = STORM_SENDING;
	c->last_progress = now;
	if (storm_watch(c, EPOLLOUT, EPOLL_CTL_MOD) < 0)
		storm_fail(c, "epoll", now);
}

static void storm_boot(struct storm_client *c, long long now)
{
	char path[128];
	unsigned long m = ((unsigned long)c->id << 20) | (c->boot_seq++ & 0xfffff);

	snprintf(path, sizeof(path), "%s02:%02lx:%02lx:%02lx:%02lx:%02lx", storm_prefix,
		 (m >> 32) & 0xff, (m >> 24) & 0xff, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
	c->step = STORM_SCRIPT;
	c->boot_start = now;
	storm_request(c, path, now);
}

/* The path of an absolute URL on our server (iPXE reuses the connection to the same host). */
static int storm_url_path(const char *url, size_t len, char *out, size_t outsz)
{
	const char *p;
	size_t hl = strlen(storm_host);

	if (len < 7 || strncmp(url, "http://", 7))
		return -EINVAL;
	p = url + 7;
	if (len - 7 < hl || strncmp(p, storm_host, hl) || p[hl] != '/')
		return -EXDEV;
	p += hl;
	len -= 7 + hl;
	if (len >= outsz)
		return -ENAMETOOLONG;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* The kernel URL (second word of `kernel`) and the initrd URL (the word of `initrd` that is
 * one) from the script. */
static int storm_parse_script(struct storm_client *c)
{
	char *line, *save = NULL, *w, *wsave;
	int have = 0;

	c->script[c->body_got] = '\0';
	for (line = strtok_r(c->script, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int kernel = !strncmp(line, "kernel ", 7), initrd = !strncmp(line, "initrd ", 7);

		if (!kernel && !initrd)
			continue;
		for (w = strtok_r(line + 7, " ", &wsave); w; w = strtok_r(NULL, " ", &wsave)) {
			if (strncmp(w, "http://", 7))
				continue;
			if (storm_url_path(w, strlen(w), kernel ? c->kernel : c->initrd, STORM_URL_MAX) < 0)
				return -EINVAL;
			have |= kernel ? 1 : 2;
			break;
		}
	}
	return have == 3 ? 0 : -EINVAL;
}

static void storm_record(long long ns)
{
	if (storm_nlat == storm_caplat) {
		size_t cap = storm_caplat ? storm_caplat * 2 : 65536;
		long long *p = realloc(storm_lat, cap * sizeof(*p));

		if (!p) {
			perror("storm: realloc");
			exit(2);
		}
		storm_lat = p;
		storm_caplat = cap;
	}
	storm_lat[storm_nlat++] = ns;
}

/* A response is complete: check it, go on with the boot. */
static void storm_done(struct storm_client *c, long long now, long long deadline)
{
	if (c->step == STORM_SCRIPT) {
		if (storm_parse_script(c) < 0) {
			storm_fail(c, "bad-script", now);
			return;
		}
	} else if (c->body_got != (c->step == STORM_KERNEL ? storm_kernel_size : storm_initrd_size)) {
		storm_fail(c, c->step == STORM_KERNEL ? "kernel-size" : "initrd-size", now);
		return;
	}
	if (c->close_after) {
		storm_closes++;
		storm_close(c);
	}
	if (c->step == STORM_INITRD && now <= deadline) {
		storm_record(now - c->boot_start);
		c->booted++;
	}
	if (now > deadline) { /* the run is over: this client rests */
		storm_close(c);
		c->state = STORM_IDLE;
		return;
	}
	if (c->fd < 0) { /* the server closed: reconnect; a boot cut short starts again */
		c->state = STORM_WAIT;
		c->wake_at = now;
		if (c->step != STORM_INITRD)
			storm_count("server-close-mid-boot");
		return;
	}
	if (c->step == STORM_SCRIPT) {
		storm_request(c, c->kernel, now);
		c->step = STORM_KERNEL;
	} else if (c->step == STORM_KERNEL) {
		storm_request(c, c->initrd, now);
		c->step = STORM_INITRD;
	} else {
		storm_boot(c, now);
	}
}

/* The headers are in c->hdr[0..end): status, Content-Length, Connection. */
static int storm_parse_headers(struct storm_client *c, size_t end, const char **kind)
{
	static char kbuf[32];
	char *p, *e = c->hdr + end;
	int status;

	if (sscanf(c->hdr, "HTTP/1.%*d %d", &status) != 1) {
		*kind = "bad-status-line";
		return -1;
	}
	if (status != 200) {
		snprintf(kbuf, sizeof(kbuf), "http-%d", status);
		*kind = kbuf;
		return -1;
	}
	for (p = strstr(c->hdr, "\r\n"); p && p < e; p = strstr(p + 2, "\r\n")) {
		char *eol = strstr(p + 2, "\r\n"), *v;

		if (!strncasecmp(p + 2, "content-length:", 15))
			c->content_length = strtoll(p + 17, NULL, 10);
		else if (!strncasecmp(p + 2, "connection:", 11) && (v = strcasestr(p + 13, "close")) && v < eol)
			c->close_after = 1;
		else if (!strncasecmp(p + 2, "transfer-encoding:", 18)) {
			*kind = "chunked";
			return -1;
		}
	}
	if (c->content_length < 0) {
		*kind = "no-content-length";
		return -1;
	}
	if (c->step == STORM_SCRIPT && c->content_length >= STORM_SCRIPT_MAX) {
		*kind = "script-too-long";
		return -1;
	}
	return 0;
}

/* Take BODY bytes already read (after the headers). */
static int storm_take(struct storm_client *c, const char *buf, size_t n)
{
	if ((long long)n > c->content_length - c->body_got)
		return -1; /* more than announced: nothing was asked for */
	if (c->step == STORM_SCRIPT)
		memcpy(c->script + c->body_got, buf, n);
	c->body_got += (long long)n;
	return 0;
}

static void storm_readable(struct storm_client *c, long long now, long long deadline)
{
	for (;;) {
		ssize_t n;

		if (c->state == STORM_HEADERS) {
			char *end;

			n = recv(c->fd, c->hdr + c->hdr_len, sizeof(c->hdr) - 1 - c->hdr_len, 0);
			if (n > 0) {
				const char *kind = NULL;
				size_t hend;

				c->hdr_len += (size_t)n;
				c->hdr[c->hdr_len] = '\0';
				c->last_progress = now;
				end = strstr(c->hdr, "\r\n\r\n");
				if (!end) {
					if (c->hdr_len >= sizeof(c->hdr) - 1) {
						storm_fail(c, "headers-too-long", now);
						return;
					}
					continue;
				}
				hend = (size_t)(end - c->hdr) + 4;
				if (storm_parse_headers(c, hend, &kind) < 0) {
					storm_fail(c, kind, now);
					return;
				}
				if (storm_take(c, c->hdr + hend, c->hdr_len - hend) < 0) {
					storm_fail(c, "extra-bytes", now);
					return;
				}
				c->state = STORM_BODY;
			}
		} else if (c->step == STORM_SCRIPT) {
			n = recv(c->fd, c->script + c->body_got, (size_t)(c->content_length - c->body_got), 0);
			if (n > 0)
				c->body_got += n;
		} else {
			/* MSG_TRUNC on TCP discards the bytes without copying them */
			long long want = c->content_length - c->body_got;

			n = recv(c->fd, storm_sink, want > (long long)sizeof(storm_sink) ? sizeof(storm_sink) : (size_t)want,
				 MSG_TRUNC);
			if (n > 0)
				c->body_got += n;
		}
		if (n == 0) {
			storm_fail(c, c->state == STORM_HEADERS && c->hdr_len == 0 ? "eof-before-response" : "eof-mid-body", now);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			storm_fail(c, errno == ECONNRESET ? "reset" : "recv-error", now);
			return;
		}
		c->last_progress = now;
		if (c->state == STORM_BODY && c->body_got == c->content_length) {
			storm_done(c, now, deadline); /* the next request waits for EPOLLOUT */
			return;
		}
	}
}

static void storm_event(struct storm_client *c, uint32_t ev, long long now, long long deadline)
{
	if (c->state == STORM_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			storm_fail(c, err == ECONNREFUSED ? "refused" : err == ECONNRESET ? "reset" : "connect", now);
			return;
		}
		storm_boot(c, now);
		return;
	}
	if (c->state == STORM_SENDING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			storm_fail(c, errno == ECONNRESET || errno == EPIPE ? "reset" : "send-error", now);
			return;
		}
		c->req_off += (size_t)n;
		c->last_progress = now;
		if (c->req_off < c->req_len)
			return;
		c->state = STORM_HEADERS;
		if (storm_watch(c, EPOLLIN, EPOLL_CTL_MOD) < 0)
			storm_fail(c, "epoll", now);
		return;
	}
	if ((c->state == STORM_HEADERS || c->state == STORM_BODY) && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		storm_readable(c, now, deadline);
}

static int storm_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static double storm_pct(double p)
{
	size_t i;

	if (!storm_nlat)
		return 0;
	i = (size_t)(p * (double)(storm_nlat - 1) + 0.5);
	return (double)storm_lat[i] / 1e6;
}

int main(int argc, char **argv)
{
	struct storm_client *cl;
	struct epoll_event evs[256];
	long long start, deadline, now;
	int n, seconds, spread = 0, i, busy, served;
	char host[256], *colon;

	if (argc < 7 || argc > 8) {
		fprintf(stderr, "usage: storm HOST:PORT CLIENTS SECONDS KERNEL_BYTES INITRD_BYTES SCRIPT_PREFIX [SPREAD]\n");
		return 2;
	}
	storm_host = argv[1];
	n = atoi(argv[2]);
	seconds = atoi(argv[3]);
	storm_kernel_size = atoll(argv[4]);
	storm_initrd_size = atoll(argv[5]);
	storm_prefix = argv[6];
	if (argc == 8)
		spread = atoi(argv[7]);
	snprintf(host, sizeof(host), "%s", storm_host);
	colon = strrchr(host, ':');
	if (n < 1 || n > 50000 || seconds < 1 || !colon) {
		fprintf(stderr, "storm: bad arguments\n");
		return 2;
	}
	*colon = '\0';
	storm_addr.sin_family = AF_INET;
	storm_addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &storm_addr.sin_addr) != 1) {
		fprintf(stderr, "storm: %s: not an IPv4 address\n", host);
		return 2;
	}
	storm_epfd = epoll_create1(EPOLL_CLOEXEC);
	cl = calloc((size_t)n, sizeof(*cl));
	if (storm_epfd < 0 || !cl) {
		perror("storm");
		return 2;
	}
	start = storm_now();
	deadline = start + (long long)seconds * 1000000000LL;
	for (i = 0; i < n; i++) {
		cl[i].id = i;
		cl[i].fd = -1;
		cl[i].src = spread ? (127u << 24) | ((unsigned)(i / 200) << 8) | (unsigned)(i % 200 + 2) : 0;
		storm_connect(&cl[i], start);
	}
	for (;;) {
		int k, got = epoll_wait(storm_epfd, evs, 256, 20);

		now = storm_now();
		for (k = 0; k < got; k++)
			storm_event(evs[k].data.ptr, evs[k].events, now, deadline);
		if (now > deadline)
			break;
		for (i = 0; i < n; i++) { /* retries due, and timeouts */
			struct storm_client *c = &cl[i];

			if (c->state == STORM_WAIT && now >= c->wake_at) {
				storm_connect(c, now);
			} else if (c->state != STORM_WAIT && c->state != STORM_IDLE &&
				   now - c->last_progress > STORM_TIMEOUT_NS) {
				storm_fail(c, "timeout", now);
			}
		}
	}
	for (i = 0, busy = 0, served = 0; i < n; i++) {
		busy += cl[i].state != STORM_IDLE && cl[i].state != STORM_WAIT;
		served += cl[i].booted > 0;
		storm_close(&cl[i]);
	}
	qsort(storm_lat, storm_nlat, sizeof(*storm_lat), storm_cmp);
	printf("boots=%zu seconds=%d boots_per_s=%.1f p50_ms=%.1f p99_ms=%.1f errors=%lu connects=%lu closes=%lu inflight=%d clients_booted=%d/%d kinds=",
	       storm_nlat, seconds, (double)storm_nlat / seconds, storm_pct(0.50), storm_pct(0.99), storm_errors,
	       storm_connects, storm_closes, busy, served, n);
	for (i = 0; i < STORM_KINDS && storm_kinds[i].name[0]; i++)
		printf("%s%s:%lu", i ? "," : "", storm_kinds[i].name, storm_kinds[i].n);
	printf("%s\n", storm_errors ? "" : "none");
	free(storm_lat);
	free(cl);
	close(storm_epfd);
	return 0;
}
