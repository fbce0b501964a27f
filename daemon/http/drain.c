/* drain.c - while tinybootd drains: new connections answered 503 + Retry-After, not reset.
 * libmicrohttpd has let go of the listening socket (MHD_quiesce_daemon); the main thread, which
 * waits for the requests in flight anyway, answers what arrives on it until the very end. */
#include "http/drain.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char http_drain_body[] = "503 Service Unavailable: tinybootd is stopping; try again later\n";

static void http_drain_deadline(struct timespec *t, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static bool http_drain_expired(const struct timespec *t, const struct timespec *now)
{
	return now->tv_sec > t->tv_sec || (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

static void http_drain_free_slot(struct http_drain_slot *s)
{
	close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* The whole answer fits any socket buffer: one send, whatever it manages. */
static void http_drain_answer(struct http_drain *d, struct http_drain_slot *s)
{
	bool head = s->nmethod == sizeof(s->method) && memcmp(s->method, "HEAD ", 5) == 0;
	char msg[512];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 503 Service Unavailable\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\n"
		     "Content-Length: %zu\r\n"
		     "Retry-After: %u\r\n"
		     "Cache-Control: no-store\r\n"
		     "Connection: close\r\n\r\n%s",
		     sizeof(http_drain_body) - 1, d->retry_after, head ? "" : http_drain_body);
	if (n > 0 && (size_t)n < sizeof(msg) && send(s->fd, msg, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* the client is gone: nothing to tell it */
	}
	shutdown(s->fd, SHUT_WR);
	s->answered = true;
	http_drain_deadline(&s->deadline, HTTP_DRAIN_LINGER_MS);
}

/* Feed what the client sent; answer once its head is complete (or too long). */
static void http_drain_read(struct http_drain *d, struct http_drain_slot *s)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* EOF or an error: a client that half-closed after its head still gets the 503 */
			if (!s->answered && s->got)
				http_drain_answer(d, s);
			http_drain_free_slot(s);
			return;
		}
		if (s->answered)
			continue; /* lingering: what follows the head is read and dropped */
		for (ssize_t i = 0; i < n && !s->answered; i++) {
			if (s->nmethod < sizeof(s->method))
				s->method[s->nmethod++] = buf[i];
			if (buf[i] == '\n')
				s->newlines++;
			else if (buf[i] != '\r')
				s->newlines = 0;
			if (s->newlines == 2 || ++s->got >= HTTP_DRAIN_HEAD_MAX)
				http_drain_answer(d, s);
		}
	}
}

static void http_drain_accept(struct http_drain *d)
{
	for (size_t i = 0; i < HTTP_DRAIN_SLOTS; i++) {
		struct http_drain_slot *s = &d->slots[i];
		int fd;

		if (s->fd >= 0)
			continue;
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: nobody else waiting; other errors: try on the next round */
		s->fd = fd;
		http_drain_deadline(&s->deadline, HTTP_DRAIN_HEAD_MS);
	}
}

void http_drain_open(struct http_drain *d, int listen_fd, unsigned retry_after)
{
	int flags;

	memset(d, 0, sizeof(*d));
	d->listen_fd = listen_fd;
	d->retry_after = retry_after;
	for (size_t i = 0; i < HTTP_DRAIN_SLOTS; i++)
		d->slots[i].fd = -1;
	/* a client that gives up between poll and accept must not block the main thread */
	if (listen_fd >= 0 && (flags = fcntl(listen_fd, F_GETFL)) >= 0)
		fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
}

void http_drain_poll(struct http_drain *d, int timeout_ms)
{
	struct pollfd pfd[HTTP_DRAIN_SLOTS + 1];
	struct http_drain_slot *owner[HTTP_DRAIN_SLOTS + 1];
	struct timespec now;
	nfds_t n = 0;
	bool room = false;

	for (size_t i = 0; i < HTTP_DRAIN_SLOTS; i++) {
		if (d->slots[i].fd < 0) {
			room = true;
			continue;
		}
		pfd[n] = (struct pollfd){ .fd = d->slots[i].fd, .events = POLLIN };
		owner[n++] = &d->slots[i];
	}
	/* all slots busy: the next connections wait in the backlog for a free one */
	if (d->listen_fd >= 0 && room) {
		pfd[n] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
		owner[n++] = NULL;
	}
	if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR) {
		struct timespec nap = { 0, (long)timeout_ms * 1000000L };

		nanosleep(&nap, NULL); /* keep the caller's pace whatever poll thinks */
	}
	for (nfds_t i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (owner[i])
			http_drain_read(d, owner[i]);
		else
			http_drain_accept(d);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < HTTP_DRAIN_SLOTS; i++) {
		struct http_drain_slot *s = &d->slots[i];

		if (s->fd < 0 || !http_drain_expired(&s->deadline, &now))
			continue;
		if (s->answered)
			http_drain_free_slot(s); /* lingered long enough */
		else
			http_drain_answer(d, s); /* a slow head: answered as it is */
	}
}

void http_drain_close(struct http_drain *d)
{
	for (size_t i = 0; i < HTTP_DRAIN_SLOTS; i++) {
		struct http_drain_slot *s = &d->slots[i];

		if (s->fd < 0)
			continue;
		if (!s->answered)
			http_drain_answer(d, s);
		http_drain_free_slot(s);
	}
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	d->listen_fd = -1;
}
