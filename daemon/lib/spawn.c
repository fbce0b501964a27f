/* spawn.c - fork/execvp with a clean environment, output captured line by line into a log. */
#include "lib/spawn.h"

#include <errno.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *const spawn_default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/nonexistent",
	"LANG=C",
	"LC_ALL=C",
	NULL,
};

void spawn_format(char *const argv[], char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? " " : "$ ", argv[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* In the child: wire up stdin/stdout/stderr and exec; never returns. */
static void spawn_child(char *const argv[], const struct spawn_opts *o, int out_fd, int in_fd)
{
	char *const *env = o->env ? o->env : spawn_default_env;
	sigset_t none;

	setpgid(0, 0);
	if (o->die_signal && prctl(PR_SET_PDEATHSIG, o->die_signal) < 0)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (in_fd < 0)
		in_fd = open(o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(127);
	if (o->cwd && chdir(o->cwd) < 0) {
		dprintf(2, "spawn: chdir %s: %s\n", o->cwd, strerror(errno));
		_exit(127);
	}
	/* execvpe looks argv[0] up in the PATH of the new environment */
	execvpe(argv[0], argv, env);
	dprintf(2, "spawn: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void spawn_lines_feed(struct spawn_lines *l, const char *data, size_t n, spawn_line_fn fn, void *ctx)
{
	while (n) {
		size_t room = sizeof(l->buf) - 1 - l->used, take = n < room ? n : room;
		char *start = l->buf, *nl;

		memcpy(l->buf + l->used, data, take);
		l->used += take;
		data += take;
		n -= take;
		while ((nl = memchr(start, '\n', l->used - (size_t)(start - l->buf)))) {
			*nl = '\0';
			if (fn)
				fn(ctx, start);
			start = nl + 1;
		}
		l->used -= (size_t)(start - l->buf);
		memmove(l->buf, start, l->used);
		if (l->used == sizeof(l->buf) - 1) { /* an over-long line: pass it on in pieces */
			l->buf[l->used] = '\0';
			if (fn)
				fn(ctx, l->buf);
			l->used = 0;
		}
	}
}

void spawn_lines_flush(struct spawn_lines *l, spawn_line_fn fn, void *ctx)
{
	if (l->used && fn) {
		l->buf[l->used] = '\0';
		fn(ctx, l->buf);
	}
	l->used = 0;
}

static long spawn_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* fork the child with in_fd (or stdin_path) as stdin; the pipe's read end goes to *out_fd. */
static int spawn_fork(char *const argv[], const struct spawn_opts *o, int in_fd, pid_t *pid,
		      int *out_fd)
{
	int pipefd[2], rc;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		rc = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return rc;
	}
	if (*pid == 0)
		spawn_child(argv, o, pipefd[1], in_fd);
	setpgid(*pid, *pid); /* also here, so a cancel right after fork finds the group */
	close(pipefd[1]);
	*out_fd = pipefd[0];
	return 0;
}

int spawn_start(char *const argv[], const struct spawn_opts *o, pid_t *pid, int *out_fd)
{
	return spawn_fork(argv, o, -1, pid, out_fd);
}

int spawn_run(char *const argv[], const struct spawn_opts *o)
{
	struct spawn_lines lines = { .used = 0 };
	char chunk[4096];
	int outfd, infd[2] = { -1, -1 }, status = 0, rc;
	struct timespec signalled = { 0, 0 }, now;
	bool termed = false, killed = false;
	pid_t pid;

	if (o->stdin_text) {
		size_t n = strlen(o->stdin_text);

		/* the whole text must fit the pipe so that writing it can never block */
		if (n > 65536)
			return -E2BIG;
		if (pipe2(infd, O_CLOEXEC) < 0)
			return -errno;
		if (write(infd[1], o->stdin_text, n) != (ssize_t)n) {
			close(infd[0]);
			close(infd[1]);
			return -EIO;
		}
		close(infd[1]);
	}
	rc = spawn_fork(argv, o, infd[0], &pid, &outfd);
	if (infd[0] >= 0)
		close(infd[0]);
	if (rc)
		return rc;

	for (;;) {
		struct pollfd pfd = { .fd = outfd, .events = POLLIN };
		ssize_t n;

		if (o->cancel && *o->cancel && !killed) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (o->cancel_signal && !termed) {
				kill(-pid, o->cancel_signal);
				signalled = now;
				termed = true;
			} else if (!termed || spawn_ms_between(&signalled, &now) >= SPAWN_CANCEL_GRACE_S * 1000) {
				kill(-pid, SIGKILL);
				killed = true;
			}
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = read(outfd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (o->log_fd >= 0 && write(o->log_fd, chunk, (size_t)n) < 0) {
			/* a full disk must not stop the build from being reaped */
		}
		spawn_lines_feed(&lines, chunk, (size_t)n, o->on_line, o->ctx);
	}
	close(outfd);
	spawn_lines_flush(&lines, o->on_line, o->ctx); /* the last line, without its newline */
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -ECHILD;
}
