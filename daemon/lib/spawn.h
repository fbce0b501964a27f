/* spawn.h - run a command from an argument vector, never through a shell: wait for it (builds)
 * or start it and read its output yourself (a supervised service). */
#ifndef TINYBOOT_SPAWN_H
#define TINYBOOT_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* Called for every output line (without the newline), the last one also without a newline. */
typedef void (*spawn_line_fn)(void *ctx, const char *line);

struct spawn_opts {
	const char *cwd;          /* NULL: inherit */
	char *const *env;         /* NULL: a minimal clean environment (PATH, HOME, LANG=C) */
	int log_fd;               /* stdout+stderr copied here (-1: discarded) */
	const char *stdin_path;   /* NULL: /dev/null */
	const char *stdin_text;   /* fed on stdin instead (at most 64 KiB) */
	spawn_line_fn on_line;
	void *ctx;
	const volatile int *cancel; /* set non-zero to kill the process group */
	int cancel_signal;        /* sent to the group first on cancel, SIGKILL following after
	                           * SPAWN_CANCEL_GRACE_S (make deletes the target it was writing);
	                           * 0: SIGKILL at once */
	int die_signal;           /* non-zero: sent to the child when the thread that started it
	                           * ends (PR_SET_PDEATHSIG; a child that changes its uid loses it) */
};

#define SPAWN_CANCEL_GRACE_S 3

/* Output cut into lines for spawn_line_fn: an over-long line is passed on in pieces. */
struct spawn_lines {
	char buf[8192];
	size_t used;
};

/* Run argv[0] (looked up in PATH) in its own process group and wait. Returns the exit status
 * (0..255), 128+signal if killed, or -errno if it could not be started. */
int spawn_run(char *const argv[], const struct spawn_opts *opts);
/* Start argv[0] (looked up in PATH) in its own process group and return at once: *pid is the
 * child, *out_fd (O_CLOEXEC) the read end of its stdout+stderr, to be closed by the caller, who
 * also reaps the child. opts: cwd, env, stdin_path and die_signal apply; the rest is ignored.
 * 0 or -errno. */
int spawn_start(char *const argv[], const struct spawn_opts *opts, pid_t *pid, int *out_fd);
/* Hand data's complete lines to fn (without the newline); the rest waits for more. */
void spawn_lines_feed(struct spawn_lines *l, const char *data, size_t n, spawn_line_fn fn, void *ctx);
/* The last line, when the output ended without a newline. */
void spawn_lines_flush(struct spawn_lines *l, spawn_line_fn fn, void *ctx);
/* Format argv for a log line ("$ make O=... tinyconfig"); quotes nothing, since argv never
 * goes to a shell. */
void spawn_format(char *const argv[], char *buf, size_t len);

#endif
