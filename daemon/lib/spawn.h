/* spawn.h - run a build command from an argument vector, never through a shell. */
#ifndef TINYBOOT_SPAWN_H
#define TINYBOOT_SPAWN_H

#include <stddef.h>

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
	volatile int *cancel;     /* set non-zero to kill the process group */
};

/* Run argv[0] (looked up in PATH) in its own process group and wait. Returns the exit status
 * (0..255), 128+signal if killed, or -errno if it could not be started. */
int spawn_run(char *const argv[], const struct spawn_opts *opts);
/* Format argv for a log line ("$ make O=... tinyconfig"); quotes nothing, since argv never
 * goes to a shell. */
void spawn_format(char *const argv[], char *buf, size_t len);

#endif
