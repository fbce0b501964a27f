/* ceiling.c - a yardstick for bench-http, not a server: the least work an HTTP/1.1 keep-alive
 * server can do per request for a static file, so a run can tell how far any server could get
 * on the machine at hand. One epoll loop per CPU on its own SO_REUSEPORT socket; a request is
 * read only up to its blank line and its path matched against the files given; the answer is
 * one head made at start and the body, either copied from a mapping with the head in one
 * writev ("copy", what tinybootd does up to 64 MiB) or sent with sendfile(2) after the head
 * with MSG_MORE ("sendfile", what nginx does), each in as few calls as the socket takes.
 * No validators, ranges, methods or errors beyond 404: do not point anything but wrk at it.
 *
 * usage: ceiling PORT copy|sendfile FILE...   (URL paths end in the files' base names) */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define CEILING_FILES_MAX 8
#define CEILING_EVENTS 64

struct ceiling_file {
	const char *name; /* base name, matched against the end of the request path */
	int fd;
	size_t size;
	char *map;
	char head[256];
	size_t head_len;
};

struct ceiling_conn {
	int sock;
	const struct ceiling_file *file; /* being sent, or NULL: reading a request */
	size_t sent;                     /* of head + body */
	char req[4096];
	size_t req_len;
};

static struct ceiling_file ceiling_files[CEILING_FILES_MAX];
static size_t ceiling_nfiles;
static bool ceiling_sendfile;
static int ceiling_port;

static int ceiling_listen(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)ceiling_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 4096)) {
		perror("ceiling: listen");
		exit(1);
	}
	return s;
}

/* the file a complete request asks for, NULL if none */
static const struct ceiling_file *ceiling_route(const char *req)
{
	const char *sp = strchr(req, ' '), *end;

	if (!sp || !(end = strchr(sp + 1, ' ')))
		return NULL;
	for (size_t i = 0; i < ceiling_nfiles; i++) {
		size_t n = strlen(ceiling_files[i].name);

		if ((size_t)(end - sp - 1) > n && end[-(long)n - 1] == '/' &&
		    memcmp(end - n, ceiling_files[i].name, n) == 0)
			return &ceiling_files[i];
	}
	return NULL;
}

/* Send what the socket takes. 1: all sent; 0: try again on EPOLLOUT; -1: drop the connection. */
static int ceiling_send(struct ceiling_conn *c)
{
	const struct ceiling_file *f = c->file;
	size_t total = f->head_len + f->size;

	while (c->sent < total) {
		ssize_t n;

		if (c->sent < f->head_len && !ceiling_sendfile) {
			struct iovec v[2] = { { (char *)f->head + c->sent, f->head_len - c->sent },
					      { f->map, f->size } };

			n = writev(c->sock, v, 2);
		} else if (c->sent < f->head_len) {
			n = send(c->sock, f->head + c->sent, f->head_len - c->sent, MSG_MORE | MSG_NOSIGNAL);
		} else if (!ceiling_sendfile) {
			n = send(c->sock, f->map + (c->sent - f->head_len), total - c->sent, MSG_NOSIGNAL);
		} else {
			off_t off = (off_t)(c->sent - f->head_len);

			n = sendfile(c->sock, f->fd, &off, total - c->sent);
		}
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->sent += (size_t)n;
	}
	c->file = NULL;
	return 1;
}

static const char ceiling_404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/* Read and answer requests until the socket has nothing more. -1: drop the connection. */
static int ceiling_serve(struct ceiling_conn *c)
{
	for (;;) {
		char *blank;
		ssize_t n;
		int rc;

		if (c->file && (rc = ceiling_send(c)) <= 0)
			return rc;
		if (!(blank = memmem(c->req, c->req_len, "\r\n\r\n", 4))) {
			if (c->req_len == sizeof(c->req) - 1)
				return -1;
			n = recv(c->sock, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, 0);
			if (n < 0 && errno == EAGAIN)
				return 0;
			if (n <= 0)
				return -1;
			c->req_len += (size_t)n;
			continue;
		}
		*blank = '\0';
		c->file = ceiling_route(c->req);
		c->sent = 0;
		c->req_len -= (size_t)(blank + 4 - c->req);
		memmove(c->req, blank + 4, c->req_len);
		if (!c->file && send(c->sock, ceiling_404, sizeof(ceiling_404) - 1, MSG_NOSIGNAL) < 0)
			return -1;
	}
}

static void *ceiling_loop(void *unused)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[CEILING_EVENTS];
	int lsock = ceiling_listen(), ep = epoll_create1(EPOLL_CLOEXEC), one = 1;

	(void)unused;
	epoll_ctl(ep, EPOLL_CTL_ADD, lsock, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, CEILING_EVENTS, -1);

		for (int i = 0; i < n; i++) {
			struct ceiling_conn *c = evs[i].data.ptr;
			int s;

			if (c) {
				if (ceiling_serve(c) < 0) {
					close(c->sock);
					free(c);
				}
				continue;
			}
			while ((s = accept4(lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				struct epoll_event cev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };

				if (!(c = calloc(1, sizeof(*c)))) {
					close(s);
					continue;
				}
				setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				c->sock = s;
				cev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, s, &cev);
			}
		}
	}
	return NULL;
}

static void ceiling_open(const char *path)
{
	struct ceiling_file *f = &ceiling_files[ceiling_nfiles++];
	const char *slash = strrchr(path, '/');
	struct stat st;

	f->name = slash ? slash + 1 : path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &st) || st.st_size == 0) {
		fprintf(stderr, "ceiling: %s: cannot open or empty\n", path);
		exit(1);
	}
	f->size = (size_t)st.st_size;
	f->map = mmap(NULL, f->size, PROT_READ, MAP_SHARED | MAP_POPULATE, f->fd, 0);
	if (f->map == MAP_FAILED) {
		perror("ceiling: mmap");
		exit(1);
	}
	f->head_len = (size_t)snprintf(f->head, sizeof(f->head),
				       "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				       "Content-Type: application/octet-stream\r\n\r\n", f->size);
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t;

	if (argc < 4 || argc - 3 > CEILING_FILES_MAX ||
	    (strcmp(argv[2], "copy") && strcmp(argv[2], "sendfile"))) {
		fprintf(stderr, "usage: ceiling PORT copy|sendfile FILE... (at most %d)\n",
			CEILING_FILES_MAX);
		return 2;
	}
	ceiling_port = atoi(argv[1]);
	ceiling_sendfile = strcmp(argv[2], "sendfile") == 0;
	for (int i = 3; i < argc; i++)
		ceiling_open(argv[i]);
	signal(SIGPIPE, SIG_IGN);
	/* one loop per CPU, as nginx's worker_processes auto and tinybootd's default pool */
	for (long i = 1; i < cpus; i++)
		pthread_create(&t, NULL, ceiling_loop, NULL);
	ceiling_loop(NULL);
	return 0;
}
