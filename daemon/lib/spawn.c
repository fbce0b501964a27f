/* spawn.c - fork/execvp with a clean environment, output captured line by line into a log. */
#include "lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

static void spawn_emit_lines(const struct spawn_opts *o, char *buf, size_t *used)
{
	char *start = buf, *nl;

	while ((nl = memchr(start, '\n', *used - (size_t)(start - buf)))) {
		*nl = '\0';
		if (o->on_line)
			o->on_line(o->ctx, start);
		start = nl + 1;
	}
	*used -= (size_t)(start - buf);
	memmove(buf, start, *used);
}

int spawn_run(char *const argv[], const struct spawn_opts *o)
{
	char line[8192];
	size_t used = 0;
	int pipefd[2], infd[2] = { -1, -1 }, status = 0, rc;
	bool killed = false;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	if (o->stdin_text) {
		size_t n = strlen(o->stdin_text);

		/* the whole text must fit the pipe so that writing it can never block */
		if (n > 65536 || pipe2(infd, O_CLOEXEC) < 0) {
			close(pipefd[0]);
			close(pipefd[1]);
			return n > 65536 ? -E2BIG : -errno;
		}
		if (write(infd[1], o->stdin_text, n) != (ssize_t)n) {
			rc = -EIO;
			close(infd[0]);
			close(infd[1]);
			close(pipefd[0]);
			close(pipefd[1]);
			return rc;
		}
		close(infd[1]);
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		if (infd[0] >= 0)
			close(infd[0]);
		return rc;
	}
	if (pid == 0)
		spawn_child(argv, o, pipefd[1], infd[0]);
	setpgid(pid, pid); /* also here, so a cancel right after fork finds the group */
	close(pipefd[1]);
	if (infd[0] >= 0)
		close(infd[0]);

	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		ssize_t n;

		if (o->cancel && *o->cancel && !killed) {
			kill(-pid, SIGKILL);
			killed = true;
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = read(pipefd[0], line + used, sizeof(line) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (o->log_fd >= 0 && write(o->log_fd, line + used, (size_t)n) < 0) {
			/* a full disk must not stop the build from being reaped */
		}
		used += (size_t)n;
		spawn_emit_lines(o, line, &used);
		if (used == sizeof(line) - 1) { /* an over-long line: pass it on in pieces */
			line[used] = '\0';
			if (o->on_line)
				o->on_line(o->ctx, line);
			used = 0;
		}
	}
	close(pipefd[0]);
	if (used && o->on_line) { /* the last line, without its newline */
		line[used] = '\0';
		o->on_line(o->ctx, line);
	}
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
