/* reports.c - a report burst driver: N guests POST their report at the same moment, each on its
 * own connection (one thread, epoll, non-blocking sockets). Every connection is opened first;
 * once all are connected, every request is sent in one sweep, so the daemon sees N reports at
 * once. Latency is per report: from its request's send to its answer's last byte.
 *
 * usage: reports HOST:PORT TOKENS_FILE [SPREAD [TIMEOUT_S]]
 *   TOKENS_FILE  one "MACHINE TOKEN" per line: a boot of MACHINE with that token
 *   SPREAD       1 (default): client i connects from 127.0.(i/200).(i%200+2), one address per
 *                guest (the per-address connection limit stays out of the way); 0: 127.0.0.1
 *   TIMEOUT_S    give up on answers after this long (default 30)
 * output: reports=N answered=A created=C errors=E p50_ms=X p99_ms=Y max_ms=Z wall_ms=W
 *         statuses=201:n,... ; exit 0 when every report got 201
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPORTS_MAX 10000
#define REPORTS_ANSWER_MAX 4096

enum reports_state { REPORTS_CONNECTING, REPORTS_READY, REPORTS_SENDING, REPORTS_READING, REPORTS_DONE };

struct reports_client {
	int fd;
	enum reports_state state;
	char req[2048];
	size_t req_len, req_off;
	char ans[REPORTS_ANSWER_MAX];
	size_t ans_len;
	long long sent_at, done_at;
	int status; /* 0: no answer (closed, timed out) */
};

static long long reports_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int reports_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Complete when the head is in and Content-Length bytes follow it. */
static int reports_answer_complete(struct reports_client *c)
{
	char *end, *cl;
	long body;

	c->ans[c->ans_len] = '\0';
	end = strstr(c->ans, "\r\n\r\n");
	if (!end)
		return 0;
	cl = strcasestr(c->ans, "\r\ncontent-length:");
	body = cl && cl < end ? strtol(cl + 17, NULL, 10) : 0;
	if ((size_t)(end + 4 - c->ans) + (size_t)body > c->ans_len)
		return 0;
	c->status = atoi(c->ans + 9);
	return 1;
}

static void reports_send(struct reports_client *c)
{
	while (c->req_off < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			c->state = REPORTS_DONE;
			return;
		}
		c->req_off += (size_t)n;
	}
	c->state = REPORTS_READING;
}

static void reports_read(struct reports_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->ans + c->ans_len, sizeof(c->ans) - 1 - c->ans_len, 0);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			c->state = REPORTS_DONE;
			return;
		}
		c->ans_len += (size_t)n;
		if (reports_answer_complete(c) || c->ans_len == sizeof(c->ans) - 1) {
			c->done_at = reports_now();
			c->state = REPORTS_DONE;
			return;
		}
	}
}

int main(int argc, char **argv)
{
	static struct reports_client cl[REPORTS_MAX];
	struct epoll_event evs[256];
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char host[64], machine[64], token[64], line[256], body[1024];
	int spread = argc > 3 ? atoi(argv[3]) : 1, timeout_s = argc > 4 ? atoi(argv[4]) : 30;
	size_t n = 0, connected = 0, done = 0, answered = 0, created = 0;
	long long t0, deadline, *lat;
	unsigned statuses[600] = { 0 };
	const char *colon;
	FILE *f;
	int ep;

	if (argc < 3 || !(colon = strrchr(argv[1], ':')) || (size_t)(colon - argv[1]) >= sizeof(host)) {
		fprintf(stderr, "usage: reports HOST:PORT TOKENS_FILE [SPREAD [TIMEOUT_S]]\n");
		return 2;
	}
	memcpy(host, argv[1], (size_t)(colon - argv[1]));
	host[colon - argv[1]] = '\0';
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "reports: %s: not an IPv4 address\n", host);
		return 2;
	}
	f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	while (n < REPORTS_MAX && fgets(line, sizeof(line), f)) {
		struct reports_client *c = &cl[n];
		int blen;

		if (sscanf(line, "%63s %63s", machine, token) != 2)
			continue;
		/* what rootfs/net/etc/init.d/S50tinyboot sends */
		blen = snprintf(body, sizeof(body),
				"{\"id\":\"%s\",\"boot\":\"%s\",\"kernel\":\"6.1.0\",\"arch\":\"x86_64\",\"ok\":true,"
				"\"uptime\":{\"net\":1.5,\"report\":3.25},\"addresses\":[\"10.0.2.15/24\"],"
				"\"payloads\":[{\"name\":\"hello.txt\",\"size\":6,\"sha256\":\"ab\",\"ok\":true}]}",
				machine, token);
		c->req_len = (size_t)snprintf(c->req, sizeof(c->req),
					      "POST /api/v1/reports HTTP/1.1\r\nHost: %s\r\n"
					      "Content-Type: application/json\r\nContent-Length: %d\r\n"
					      "Connection: close\r\n\r\n%s",
					      argv[1], blen, body);
		n++;
	}
	fclose(f);
	ep = epoll_create1(0);
	lat = calloc(n ? n : 1, sizeof(*lat));
	if (ep < 0 || !lat)
		return 2;
	deadline = reports_now() + (long long)timeout_s * 1000000000LL;
	for (size_t i = 0; i < n; i++) {
		struct reports_client *c = &cl[i];
		struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };

		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			perror("socket");
			return 2;
		}
		if (spread) {
			struct sockaddr_in src = { .sin_family = AF_INET };

			src.sin_addr.s_addr = htonl((127u << 24) | ((unsigned)(i / 200) << 8) | (unsigned)(i % 200 + 2));
			if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
				perror("bind");
				return 2;
			}
		}
		if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
			c->state = REPORTS_DONE;
			done++;
			continue;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	/* every connection up first, so that the requests leave together */
	while (connected + done < n && reports_now() < deadline) {
		int k = epoll_wait(ep, evs, 256, 100);

		for (int e = 0; e < k; e++) {
			struct reports_client *c = evs[e].data.ptr;
			int err = 0;
			socklen_t elen = sizeof(err);

			if (c->state != REPORTS_CONNECTING)
				continue;
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
			c->state = err ? REPORTS_DONE : REPORTS_READY;
			if (err)
				done++;
			else
				connected++;
			/* readiness only for the answer from now on */
			evs[e].events = EPOLLIN;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &evs[e]);
		}
	}
	t0 = reports_now();
	for (size_t i = 0; i < n; i++) {
		if (cl[i].state != REPORTS_READY)
			continue;
		cl[i].sent_at = reports_now();
		reports_send(&cl[i]);
		if (cl[i].state == REPORTS_SENDING || cl[i].req_off < cl[i].req_len) {
			struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = &cl[i] };

			cl[i].state = REPORTS_SENDING;
			epoll_ctl(ep, EPOLL_CTL_MOD, cl[i].fd, &ev);
		}
		if (cl[i].state == REPORTS_DONE)
			done++;
	}
	while (done < n && reports_now() < deadline) {
		int k = epoll_wait(ep, evs, 256, 100);

		for (int e = 0; e < k; e++) {
			struct reports_client *c = evs[e].data.ptr;

			if (c->state == REPORTS_SENDING)
				reports_send(c);
			if (c->state == REPORTS_READING)
				reports_read(c);
			if (c->state == REPORTS_DONE) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				done++;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct reports_client *c = &cl[i];

		if (c->status > 0 && c->status < 600) {
			statuses[c->status]++;
			lat[answered++] = c->done_at - c->sent_at;
			created += c->status == 201;
		}
		close(c->fd);
	}
	qsort(lat, answered, sizeof(*lat), reports_cmp);
#define PCT(p) (answered ? (double)lat[(size_t)((double)(answered - 1) * (p))] / 1e6 : 0.0)
	printf("reports=%zu answered=%zu created=%zu errors=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f wall_ms=%.1f statuses=",
	       n, answered, created, n - created, PCT(0.50), PCT(0.99), PCT(1.0),
	       (double)(reports_now() - t0) / 1e6);
	for (int s = 0, first = 1; s < 600; s++)
		if (statuses[s]) {
			printf("%s%d:%u", first ? "" : ",", s, statuses[s]);
			first = 0;
		}
	printf("\n");
	free(lat);
	return created == n ? 0 : 1;
}
