/* conns.c - the connection table: deadlines for request heads and bodies, shedding when full. */
#include "http/conns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/filecache.h"
#include "lib/log.h"

#define HTTP_CONNS_TICK_MS 1000 /* deadlines are checked at least this often */
#define HTTP_CONNS_NAP_MS 100	/* and at most this often, so closes come in batches */
#define HTTP_CONNS_PASS_MS 10	/* passes woken by a full table: at most this often */
#define HTTP_CONNS_NONE UINT32_MAX

/* One connection. MHD's socket context points here from NOTIFY_STARTED to NOTIFY_CLOSED, and
 * fd stays open all that time (MHD closes it after NOTIFY_CLOSED): shutting it down under the
 * table's lock can never hit a reused descriptor. */
struct http_conn {
	uint64_t since_ms; /* start of the phase, CLOCK_MONOTONIC */
	int fd;		   /* -1: the slot is free */
	uint32_t next_free;
	unsigned char phase; /* enum http_conn_phase */
	bool shut;	     /* shut down here, MHD has not closed it yet */
	sa_family_t family;
	unsigned char addr[16]; /* the client's address, for the log */
};

/* Closes of one kind, logged at most once a second. */
struct http_conns_report {
	unsigned count;
	uint64_t logged_ms;
	char first[INET6_ADDRSTRLEN];
};

enum { HTTP_REPORT_HEAD, HTTP_REPORT_BODY, HTTP_REPORT_SHED, HTTP_REPORT_KINDS };

struct http_conns {
	struct tinyboot *tb;
	int listen_fd;
	int wake_fd; /* eventfd: a connection filled the table, or stop */
	pthread_t reaper;
	pthread_mutex_t lock;
	bool stop;
	unsigned capacity;
	unsigned used; /* slots in use, shut ones included */
	unsigned shut; /* shut down, not closed yet */
	uint32_t free_head;
	uint32_t *order; /* scratch for choosing whom to shed, capacity entries */
	struct http_conns_report reports[HTTP_REPORT_KINDS];
	struct http_conn slots[];
};

static uint64_t http_conns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void http_conns_wake(struct http_conns *cs)
{
	uint64_t one = 1;

	if (write(cs->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
}

static void http_conns_note_address(struct http_conn *slot, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	slot->family = AF_UNSPEC;
	if (sa && sa->sa_family == AF_INET) {
		slot->family = AF_INET;
		memcpy(slot->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		slot->family = AF_INET6;
		memcpy(slot->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

void http_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode code)
{
	struct http_conns *cs = cls;
	struct http_conn *slot = *socket_context;
	const union MHD_ConnectionInfo *ci;
	bool full = false;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!slot)
			return;
		pthread_mutex_lock(&cs->lock);
		if (slot->shut)
			cs->shut--;
		slot->fd = -1;
		slot->next_free = cs->free_head;
		cs->free_head = (uint32_t)(slot - cs->slots);
		cs->used--;
		pthread_mutex_unlock(&cs->lock);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	pthread_mutex_lock(&cs->lock);
	if (cs->free_head != HTTP_CONNS_NONE) {
		slot = &cs->slots[cs->free_head];
		cs->free_head = slot->next_free;
		slot->fd = ci->connect_fd;
		slot->phase = HTTP_CONN_HEAD;
		slot->since_ms = http_conns_now_ms();
		slot->shut = false;
		http_conns_note_address(slot, c);
		cs->used++;
		full = cs->used >= cs->capacity;
		*socket_context = slot;
	}
	pthread_mutex_unlock(&cs->lock);
	/* MHD stops accepting now: someone may be waiting already */
	if (full)
		http_conns_wake(cs);
}

void http_conns_phase(struct http_conns *cs, struct MHD_Connection *c, enum http_conn_phase phase)
{
	const union MHD_ConnectionInfo *ci;
	struct http_conn *slot;

	if (!cs)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	slot = ci ? ci->socket_context : NULL;
	if (!slot)
		return;
	pthread_mutex_lock(&cs->lock);
	slot->phase = (unsigned char)phase;
	slot->since_ms = http_conns_now_ms();
	pthread_mutex_unlock(&cs->lock);
}

/* Under the lock: shut the connection down; MHD sees the end of the stream and closes it. */
static void http_conns_shut(struct http_conns *cs, struct http_conn *slot, int kind)
{
	struct http_conns_report *rep = &cs->reports[kind];

	shutdown(slot->fd, SHUT_RDWR);
	slot->shut = true;
	cs->shut++;
	if (rep->count++ == 0 &&
	    !inet_ntop(slot->family, slot->addr, rep->first, sizeof(rep->first)))
		strcpy(rep->first, "?");
}

/* Connections waiting in the listen socket's accept queue (TCP_INFO reports its length for a
 * listening socket); without TCP_INFO, one when the socket is readable. */
static unsigned http_conns_waiting(int listen_fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };

	if (getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= offsetof(struct tcp_info, tcpi_unacked) + sizeof(ti.tcpi_unacked) &&
	    ti.tcpi_state == TCP_LISTEN)
		return ti.tcpi_unacked;
	return poll(&p, 1, 0) > 0 ? 1 : 0;
}

static int http_conns_older(const void *a, const void *b, void *arg)
{
	const struct http_conn *slots = arg;
	uint64_t x = slots[*(const uint32_t *)a].since_ms, y = slots[*(const uint32_t *)b].since_ms;

	return x < y ? -1 : x > y;
}

/* Under the lock, with the table full: make room for up to `want` clients in the accept queue
 * by shutting the connections that have waited longest for their request head. */
static void http_conns_shed(struct http_conns *cs, unsigned want)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < cs->capacity; i++)
		if (cs->slots[i].fd >= 0 && !cs->slots[i].shut && cs->slots[i].phase == HTTP_CONN_HEAD)
			cs->order[n++] = i;
	if (want > n)
		want = n;
	if (want < n)
		qsort_r(cs->order, n, sizeof(cs->order[0]), http_conns_older, cs->slots);
	for (unsigned i = 0; i < want; i++)
		http_conns_shut(cs, &cs->slots[cs->order[i]], HTTP_REPORT_SHED);
}

/* Under the lock: close heads and bodies past their deadline; the next deadline, or 0. */
static uint64_t http_conns_expire(struct http_conns *cs, uint64_t now, uint64_t head_ms,
				  uint64_t body_ms)
{
	uint64_t next = 0;

	for (uint32_t i = 0; i < cs->capacity; i++) {
		struct http_conn *slot = &cs->slots[i];
		uint64_t limit, due;

		if (slot->fd < 0 || slot->shut || slot->phase == HTTP_CONN_REPLY)
			continue;
		limit = slot->phase == HTTP_CONN_HEAD ? head_ms : body_ms;
		due = slot->since_ms + limit;
		if (due <= now)
			http_conns_shut(cs, slot, slot->phase == HTTP_CONN_HEAD ? HTTP_REPORT_HEAD
										: HTTP_REPORT_BODY);
		else if (!next || due < next)
			next = due;
	}
	return next;
}

static void http_conns_log(struct http_conns *cs, uint64_t now, bool flush, unsigned head_s,
			   unsigned body_s)
{
	struct http_conns_report copy[HTTP_REPORT_KINDS];

	pthread_mutex_lock(&cs->lock);
	for (int k = 0; k < HTTP_REPORT_KINDS; k++) {
		copy[k] = cs->reports[k];
		if (cs->reports[k].count && (flush || now - cs->reports[k].logged_ms >= 1000)) {
			cs->reports[k].count = 0;
			cs->reports[k].logged_ms = now;
		} else {
			copy[k].count = 0;
		}
	}
	pthread_mutex_unlock(&cs->lock);
	if (copy[HTTP_REPORT_HEAD].count)
		log_info("header-timeout: closed %u connection(s) whose request head was not in after %u s (first from %s)",
			 copy[HTTP_REPORT_HEAD].count, head_s, copy[HTTP_REPORT_HEAD].first);
	if (copy[HTTP_REPORT_BODY].count)
		log_info("body-timeout: closed %u connection(s) whose request body was not in after %u s (first from %s)",
			 copy[HTTP_REPORT_BODY].count, body_s, copy[HTTP_REPORT_BODY].first);
	if (copy[HTTP_REPORT_SHED].count)
		log_warnx("max-connections (%u) reached with clients waiting: closed %u connection(s) still sending their request head, oldest first (first from %s)",
			  cs->capacity, copy[HTTP_REPORT_SHED].count, copy[HTTP_REPORT_SHED].first);
}

/* Each pass scans the whole table: under a flood of connections, wake-ups are merged. */
static void http_conns_pace(uint64_t last_ms)
{
	uint64_t now = http_conns_now_ms();
	struct timespec nap = { 0, 0 };

	if (now - last_ms >= HTTP_CONNS_PASS_MS)
		return;
	nap.tv_nsec = (long)(HTTP_CONNS_PASS_MS - (now - last_ms)) * 1000000;
	nanosleep(&nap, NULL);
}

static void *http_conns_reaper(void *arg)
{
	struct http_conns *cs = arg;
	uint64_t last_ms = 0;

	for (;;) {
		struct pollfd p[2] = { { .fd = cs->wake_fd, .events = POLLIN },
				       { .fd = cs->listen_fd, .events = POLLIN } };
		struct runtime *rt = runtime_get(&cs->tb->current);
		unsigned head_s = rt->opts.header_timeout, body_s = rt->opts.body_timeout;
		bool draining = atomic_load(&cs->tb->draining), watch_listen = false;
		int timeout = HTTP_CONNS_TICK_MS;
		uint64_t now, next, drained;

		runtime_put(rt);
		http_conns_pace(last_ms);
		now = last_ms = http_conns_now_ms();
		pthread_mutex_lock(&cs->lock);
		if (cs->stop) {
			pthread_mutex_unlock(&cs->lock);
			break;
		}
		next = http_conns_expire(cs, now, (uint64_t)head_s * 1000, (uint64_t)body_s * 1000);
		if (!draining && cs->used >= cs->capacity) {
			unsigned waiting = http_conns_waiting(cs->listen_fd);

			if (waiting > cs->shut)
				http_conns_shed(cs, waiting - cs->shut);
			/* a readable listen socket with a client in it would wake us in a loop */
			watch_listen = waiting == 0;
		}
		pthread_mutex_unlock(&cs->lock);
		http_conns_log(cs, now, false, head_s, body_s);
		http_filecache_tick(cs->tb->files); /* kept responses of removed files let go */
		if (next && next - now < (uint64_t)timeout)
			timeout = (int)(next - now);
		if (timeout < HTTP_CONNS_NAP_MS)
			timeout = HTTP_CONNS_NAP_MS;
		if (poll(p, watch_listen ? 2 : 1, timeout) < 0 && errno != EINTR)
			log_warn("%s: poll", __func__);
		if (read(cs->wake_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
			log_warn("%s: eventfd", __func__);
	}
	return NULL;
}

int http_conns_new(struct tinyboot *tb, unsigned capacity, int listen_fd, struct http_conns **out)
{
	struct http_conns *cs;
	int rc;

	*out = NULL;
	if (capacity == 0 || capacity >= HTTP_CONNS_NONE)
		return -EINVAL;
	cs = calloc(1, sizeof(*cs) + (size_t)capacity * sizeof(cs->slots[0]));
	if (!cs)
		return -ENOMEM;
	cs->order = calloc(capacity, sizeof(cs->order[0]));
	if (!cs->order) {
		rc = -ENOMEM;
		goto err_free;
	}
	cs->tb = tb;
	cs->listen_fd = listen_fd;
	cs->capacity = capacity;
	for (uint32_t i = 0; i < capacity; i++) {
		cs->slots[i].fd = -1;
		cs->slots[i].next_free = i + 1 < capacity ? i + 1 : HTTP_CONNS_NONE;
	}
	cs->free_head = 0;
	cs->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cs->wake_fd < 0) {
		rc = -errno;
		log_warn("%s: eventfd", __func__);
		goto err_free;
	}
	pthread_mutex_init(&cs->lock, NULL);
	rc = -pthread_create(&cs->reaper, NULL, http_conns_reaper, cs);
	if (rc) {
		log_warnx("%s: cannot start the connection reaper: %s", __func__, strerror(-rc));
		goto err_lock;
	}
	*out = cs;
	return 0;

err_lock:
	pthread_mutex_destroy(&cs->lock);
	close(cs->wake_fd);
err_free:
	free(cs->order);
	free(cs);
	return rc;
}

void http_conns_free(struct http_conns *cs)
{
	struct runtime *rt;

	if (!cs)
		return;
	pthread_mutex_lock(&cs->lock);
	cs->stop = true;
	pthread_mutex_unlock(&cs->lock);
	http_conns_wake(cs);
	pthread_join(cs->reaper, NULL);
	rt = runtime_get(&cs->tb->current);
	http_conns_log(cs, http_conns_now_ms(), true, rt->opts.header_timeout, rt->opts.body_timeout);
	runtime_put(rt);
	pthread_mutex_destroy(&cs->lock);
	close(cs->wake_fd);
	free(cs->order);
	free(cs);
}

unsigned http_conns_open(struct http_conns *cs)
{
	unsigned n;

	if (!cs)
		return 0;
	pthread_mutex_lock(&cs->lock);
	n = cs->used;
	pthread_mutex_unlock(&cs->lock);
	return n;
}
