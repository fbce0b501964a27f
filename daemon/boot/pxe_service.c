/* pxe_service.c - supervise dnsmasq: spawn, read its lines, restart with backoff, stop. */
#include "boot/pxe_service.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/netif.h"
#include "lib/spawn.h"

const struct pxe_service_timing pxe_service_default_timing = {
	.backoff_min_ms = 1000,
	.backoff_max_ms = 60000,
	.healthy_ms = 60000,
	.grace_ms = 5000,
	.start_ms = 10000,
};

enum pxe_service_state { PXE_SERVICE_IDLE, PXE_SERVICE_STARTING, PXE_SERVICE_UP };

struct pxe_service {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a child came up, exited or went away */
	pthread_t thread;
	int wake[2];            /* a byte here: look at stop, generation */
	struct pxe_service_timing t;
	/* under lock */
	char **argv;            /* what should run; NULL: nothing */
	char *text;
	char *shown;            /* pxe_service_show's text; NULL: text */
	int pending_sig;        /* to send once the starting child is up; 0: none */
	bool stop;              /* the thread ends */
	unsigned generation;    /* bumped by every change of what should run */
	unsigned run_gen;       /* the generation of the child now running */
	unsigned exit_gen;      /* the generation of the child that exited last */
	enum pxe_service_state state;
	pid_t pid;
	unsigned starts;
	int status;             /* wait status of the last exit */
	char last[512];         /* the last line dnsmasq printed (its reason, when it dies) */
};

static long long pxe_service_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pxe_service_wake(struct pxe_service *s)
{
	if (write(s->wake[1], "x", 1) < 0) {
		/* full already: the thread has a wake-up pending */
	}
}

/* Wait up to ms (-1: for ever) for a wake-up; true when woken. */
static bool pxe_service_sleep(struct pxe_service *s, int ms)
{
	struct pollfd p = { .fd = s->wake[0], .events = POLLIN };
	char buf[64];
	bool woken = false;

	if (poll(&p, 1, ms) > 0) {
		while (read(s->wake[0], buf, sizeof(buf)) > 0)
			woken = true;
	}
	return woken;
}

static void pxe_service_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

static char **pxe_service_argv_dup(char *const argv[])
{
	size_t n = 0;
	char **copy;

	while (argv[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		copy[i] = strdup(argv[i]);
		if (!copy[i]) {
			pxe_service_argv_free(copy);
			return NULL;
		}
	}
	return copy;
}

static bool pxe_service_argv_equal(char *const *a, char *const *b)
{
	if (!a || !b)
		return false;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return !*a && !*b;
}

/* "dnsmasq-dhcp[123]: DHCPOFFER..." -> "dhcp: DHCPOFFER..."; "dnsmasq[123]: x" -> "x". */
static const char *pxe_service_strip(const char *line, char *buf, size_t len)
{
	const char *p = line, *colon;

	if (strncmp(p, "dnsmasq", 7) != 0)
		return line;
	p += 7;
	colon = strstr(p, ": ");
	if (!colon)
		return line;
	if (*p == '-') {
		size_t sub = strcspn(p + 1, "[:");

		snprintf(buf, len, "%.*s: %s", (int)sub, p + 1, colon + 2);
		return buf;
	}
	return colon + 2;
}

/* One line of dnsmasq's output: into the log; the ready line; the last reason. */
static void pxe_service_line(void *ctx, const char *line)
{
	struct pxe_service *s = ctx;
	char buf[1024];
	const char *msg;

	if (!line[0])
		return;
	msg = pxe_service_strip(line, buf, sizeof(buf));
	log_info("dnsmasq: %s", msg);
	pthread_mutex_lock(&s->lock);
	if (strstr(msg, PXE_SERVICE_READY) && s->state == PXE_SERVICE_STARTING) {
		s->state = PXE_SERVICE_UP;
		if (s->pending_sig && s->pid)
			kill(s->pid, s->pending_sig);
		s->pending_sig = 0;
		pthread_cond_broadcast(&s->changed);
	}
	if (!strstr(msg, "FAILED to start up"))
		snprintf(s->last, sizeof(s->last), "%.500s", msg);
	pthread_mutex_unlock(&s->lock);
}

static void pxe_service_read(struct pxe_service *s, int *fd, struct spawn_lines *lines)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(*fd, chunk, sizeof(chunk))) > 0)
		spawn_lines_feed(lines, chunk, (size_t)n, pxe_service_line, s);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

/* Run one child until it exits; stop it when the service is told to. Returns its wait status,
 * or -errno when it could not be started. */
static int pxe_service_child(struct pxe_service *s, char *const argv[], unsigned gen)
{
	struct spawn_opts o = { .log_fd = -1, .die_signal = SIGTERM };
	struct spawn_lines lines = { .used = 0 };
	long long term_at = 0;
	bool killed = false;
	int fd, status = 0, rc;
	pid_t pid;

	rc = spawn_start(argv, &o, &pid, &fd);
	if (rc) {
		errno = -rc;
		log_warn("cannot start %s", argv[0]);
		return rc;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	pthread_mutex_lock(&s->lock);
	s->pid = pid;
	s->starts++;
	pthread_mutex_unlock(&s->lock);
	log_debug("dnsmasq started as pid %ld", (long)pid);

	for (;;) {
		struct pollfd p[2] = { { .fd = s->wake[0], .events = POLLIN }, { .fd = fd, .events = POLLIN } };
		bool leave;
		pid_t done;

		poll(p, fd >= 0 ? 2 : 1, 200);
		if (fd >= 0 && p[1].revents)
			pxe_service_read(s, &fd, &lines);
		if (p[0].revents)
			pxe_service_sleep(s, 0);
		pthread_mutex_lock(&s->lock);
		leave = s->stop || s->generation != gen;
		pthread_mutex_unlock(&s->lock);
		if (leave && !term_at) {
			kill(pid, SIGTERM);
			term_at = pxe_service_now_ms();
		}
		done = waitpid(pid, &status, WNOHANG);
		if (done == pid || (done < 0 && errno != EINTR))
			break;
		if (term_at && !killed && pxe_service_now_ms() - term_at > s->t.grace_ms) {
			log_warnx("dnsmasq did not stop within %u ms: SIGKILL", s->t.grace_ms);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
		}
	}
	if (fd >= 0)
		pxe_service_read(s, &fd, &lines);
	if (fd >= 0)
		close(fd);
	spawn_lines_flush(&lines, pxe_service_line, s);
	pthread_mutex_lock(&s->lock);
	s->pid = 0;
	pthread_mutex_unlock(&s->lock);
	return status;
}

static void pxe_service_describe(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "could not be started (%s)", strerror(-status));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended");
}

static void *pxe_service_main(void *arg)
{
	struct pxe_service *s = arg;
	unsigned backoff = s->t.backoff_min_ms;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		char how[128], why[512], hint[512];
		const char *explained;
		long long started;
		unsigned gen;
		char **argv;
		int status;

		if (!s->argv) {
			pthread_mutex_unlock(&s->lock);
			pxe_service_sleep(s, -1);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		argv = pxe_service_argv_dup(s->argv);
		gen = s->run_gen = s->generation;
		s->state = PXE_SERVICE_STARTING;
		s->pending_sig = 0; /* a new child reads its files afresh */
		s->last[0] = '\0';
		pthread_mutex_unlock(&s->lock);

		started = pxe_service_now_ms();
		status = argv ? pxe_service_child(s, argv, gen) : -ENOMEM;
		pxe_service_argv_free(argv);

		pthread_mutex_lock(&s->lock);
		/* its last line is the reason only when it died starting up */
		snprintf(why, sizeof(why), "%s", s->state == PXE_SERVICE_STARTING ? s->last : "");
		s->state = PXE_SERVICE_IDLE;
		s->exit_gen = gen;
		s->status = status;
		pthread_cond_broadcast(&s->changed);
		if (s->stop || s->generation != gen) { /* stopped on purpose: start the new one at once */
			backoff = s->t.backoff_min_ms;
			continue;
		}
		if (pxe_service_now_ms() - started >= s->t.healthy_ms)
			backoff = s->t.backoff_min_ms;
		pthread_mutex_unlock(&s->lock);

		pxe_service_describe(status, how, sizeof(how));
		explained = pxe_service_explain(why, hint, sizeof(hint));
		log_error("dnsmasq %s%s%s%s%s; restarting in %u ms", how, why[0] ? ": " : "", why,
			  explained ? " - " : "", explained ? explained : "", backoff);
		pxe_service_sleep(s, (int)backoff);
		pthread_mutex_lock(&s->lock);
		if (s->generation != gen) /* told to run something: a fresh start */
			backoff = s->t.backoff_min_ms;
		else
			backoff = backoff > s->t.backoff_max_ms / 2 ? s->t.backoff_max_ms : backoff * 2;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int pxe_service_new(const struct pxe_service_timing *timing, struct pxe_service **out)
{
	struct pxe_service *s = calloc(1, sizeof(*s));
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->t = timing ? *timing : pxe_service_default_timing;
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &attr);
	pthread_condattr_destroy(&attr);
	rc = -pthread_create(&s->thread, NULL, pxe_service_main, s);
	if (rc) {
		pthread_cond_destroy(&s->changed);
		pthread_mutex_destroy(&s->lock);
		close(s->wake[0]);
		close(s->wake[1]);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Wait until the child of generation gen is up or has exited; under the lock. */
static int pxe_service_await(struct pxe_service *s, unsigned gen, char *err, size_t errlen)
{
	struct timespec deadline;
	char how[128], hint[512];
	const char *explained;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->t.start_ms / 1000;
	deadline.tv_nsec += (long)(s->t.start_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	while (s->exit_gen != gen && !(s->run_gen == gen && s->state == PXE_SERVICE_UP)) {
		if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) == ETIMEDOUT) {
			snprintf(err, errlen, "dnsmasq did not report start-up within %u ms", s->t.start_ms);
			return -ETIMEDOUT;
		}
	}
	if (s->exit_gen != gen)
		return 0;
	pxe_service_describe(s->status, how, sizeof(how));
	explained = pxe_service_explain(s->last, hint, sizeof(hint));
	snprintf(err, errlen, "dnsmasq %s%s%s%s%s", how, s->last[0] ? ": " : "", s->last,
		 explained ? " - " : "", explained ? explained : "");
	return -EIO;
}

/* Under the lock. */
static bool pxe_service_runs_locked(struct pxe_service *s, char *const argv[], const char *text)
{
	return pxe_service_argv_equal(s->argv, argv) && s->text && strcmp(s->text, text) == 0 &&
	       s->run_gen == s->generation && s->state != PXE_SERVICE_IDLE;
}

bool pxe_service_runs(struct pxe_service *s, char *const argv[], const char *text)
{
	bool runs;

	pthread_mutex_lock(&s->lock);
	runs = pxe_service_runs_locked(s, argv, text);
	pthread_mutex_unlock(&s->lock);
	return runs;
}

int pxe_service_signal(struct pxe_service *s, int sig)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->state == PXE_SERVICE_UP && s->pid)
		rc = kill(s->pid, sig) < 0 ? -errno : 0;
	else if (s->state == PXE_SERVICE_STARTING && s->run_gen == s->generation && s->argv)
		s->pending_sig = sig;
	else
		rc = -ESRCH;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int pxe_service_run(struct pxe_service *s, char *const argv[], const char *text, bool wait,
		    char *err, size_t errlen)
{
	char **copy = pxe_service_argv_dup(argv);
	char *text_copy = strdup(text);
	unsigned gen;
	int rc = 0;

	if (!copy || !text_copy) {
		pxe_service_argv_free(copy);
		free(text_copy);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	if (pxe_service_runs_locked(s, copy, text)) {
		/* already running (or starting) just this */
		pxe_service_argv_free(copy);
		free(text_copy);
	} else {
		pxe_service_argv_free(s->argv);
		free(s->text);
		s->argv = copy;
		s->text = text_copy;
		s->generation++;
		pxe_service_wake(s);
	}
	gen = s->generation;
	if (wait)
		rc = pxe_service_await(s, gen, err, errlen);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void pxe_service_halt(struct pxe_service *s)
{
	pthread_mutex_lock(&s->lock);
	pxe_service_argv_free(s->argv);
	free(s->text);
	free(s->shown);
	s->argv = NULL;
	s->text = NULL;
	s->shown = NULL;
	s->generation++;
	pxe_service_wake(s);
	while (s->pid || s->state != PXE_SERVICE_IDLE)
		pthread_cond_wait(&s->changed, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void pxe_service_free(struct pxe_service *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pxe_service_wake(s);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pxe_service_argv_free(s->argv);
	free(s->text);
	free(s->shown);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s);
}

char *pxe_service_text(struct pxe_service *s)
{
	char *text;

	pthread_mutex_lock(&s->lock);
	text = s->text ? strdup(s->text) : NULL;
	pthread_mutex_unlock(&s->lock);
	return text;
}

bool pxe_service_show(struct pxe_service *s, const char *shown)
{
	char *copy = shown ? strdup(shown) : NULL;
	bool changed;

	pthread_mutex_lock(&s->lock);
	changed = s->shown && shown ? strcmp(s->shown, shown) != 0 : s->shown != shown;
	free(s->shown);
	s->shown = copy; /* no memory: the text is shown alone */
	pthread_mutex_unlock(&s->lock);
	return changed;
}

char *pxe_service_shown(struct pxe_service *s)
{
	char *text;

	pthread_mutex_lock(&s->lock);
	text = s->shown ? strdup(s->shown) : s->text ? strdup(s->text) : NULL;
	pthread_mutex_unlock(&s->lock);
	return text;
}

unsigned pxe_service_starts(struct pxe_service *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->starts;
	pthread_mutex_unlock(&s->lock);
	return n;
}

pid_t pxe_service_pid(struct pxe_service *s)
{
	pid_t pid;

	pthread_mutex_lock(&s->lock);
	pid = s->pid;
	pthread_mutex_unlock(&s->lock);
	return pid;
}

/* Which of DHCP's ports another process holds, for "Address already in use". */
static const char *pxe_service_dhcp_port(void)
{
	bool p67 = netif_udp_port_bound(67) == 1, p4011 = netif_udp_port_bound(4011) == 1;

	if (p67 && !p4011)
		return "port 67 (DHCP)";
	if (p4011 && !p67)
		return "port 4011 (proxyDHCP)";
	return "port 67 (DHCP) or 4011 (proxyDHCP)";
}

const char *pxe_service_explain(const char *line, char *buf, size_t len)
{
	if (strstr(line, "failed to bind DHCP server socket") && strstr(line, "in use")) {
		snprintf(buf, len, "%s is already taken by another DHCP server on this host (see "
			 "`ss -ulpn`): stop it, or set pxe = off and give that server the lines of "
			 "`tinyboot pxe-config`", pxe_service_dhcp_port());
		return buf;
	}
	if (strstr(line, "failed to create listening socket") && strstr(line, "in use")) {
		snprintf(buf, len, "port 69 (TFTP) is already taken by another TFTP server on this host "
			 "(tftpd-hpa, atftpd, another dnsmasq; see `ss -ulpn`): stop it");
		return buf;
	}
	if (strstr(line, "TFTP directory") || strstr(line, "lease file")) {
		snprintf(buf, len, "dnsmasq cannot reach its files in the state directory: check the "
			 "owner and mode of every directory on the way");
		return buf;
	}
	if (strstr(line, "Permission denied") || strstr(line, "missing required capability") ||
	    strstr(line, "Operation not permitted")) {
		snprintf(buf, len, "dnsmasq needs CAP_NET_BIND_SERVICE, CAP_NET_RAW and CAP_NET_ADMIN: "
			 "run tinybootd as root, or under systemd with the tinybootd-pxe.conf drop-in");
		return buf;
	}
	if (strstr(line, "unknown interface")) {
		snprintf(buf, len, "the interface is gone: check pxe-interface, then send SIGHUP");
		return buf;
	}
	if (strstr(line, "spawn: exec")) {
		snprintf(buf, len, "dnsmasq cannot be run: install it (apt-get install dnsmasq-base) or "
			 "set pxe-dnsmasq = PATH");
		return buf;
	}
	if (strstr(line, "bad option") || strstr(line, "error at line") || strstr(line, "bad dhcp") ||
	    strstr(line, "at line")) {
		snprintf(buf, len, "dnsmasq refused the configuration tinybootd wrote: please report this "
			 "with `tinyboot pxe-config`");
		return buf;
	}
	return NULL;
}
