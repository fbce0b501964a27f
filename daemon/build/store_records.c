/* store_records.c - what a build leaves besides its output: its log (STATE/builds/ID.log) and,
 * when it failed, why (STATE/failed/ID: the error, then the log's tail). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/store.h"
#include "build/store_private.h"
#include "lib/fsutil.h"

#define STORE_LOG_MAX (64 << 20)
#define STORE_TAIL_LINES 40
#define STORE_TAIL_MAX (16 * 1024)

static int store_log_path(const struct store *s, const char *id, char *buf, size_t len)
{
	char name[DIGEST_HEX_LEN + 8];

	if (fsutil_path(name, sizeof(name), "%s.log", id))
		return -EINVAL;
	return store_path_in(s, STORE_BUILDS, name, NULL, buf, len);
}

int store_log_open(const struct store *s, const char *id, char *path, size_t pathlen)
{
	int rc = store_log_path(s, id, path, pathlen), fd;

	if (rc)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

char *store_log_tail(const struct store *s, const char *id)
{
	char path[STORE_PATH_MAX], *text = NULL, *start, *tail;
	size_t len = 0;
	int lines = 0;

	if (store_log_path(s, id, path, sizeof(path)) ||
	    fsutil_read_file(path, STORE_LOG_MAX, &text, &len))
		return strdup("(no build log)");
	/* walk back over STORE_TAIL_LINES lines (a final newline does not count) */
	start = text + len;
	while (start > text) {
		if (start[-1] == '\n' && start != text + len && ++lines > STORE_TAIL_LINES)
			break;
		if ((size_t)(text + len - start) >= STORE_TAIL_MAX)
			break;
		start--;
	}
	tail = strdup(start);
	free(text);
	return tail;
}

int store_failure_put(const struct store *s, const char *id, const char *error)
{
	char path[STORE_PATH_MAX], *tail, *text = NULL;
	int rc;

	rc = store_path_in(s, STORE_FAILED, id, NULL, path, sizeof(path));
	if (rc)
		return rc;
	tail = store_log_tail(s, id);
	if (!tail || asprintf(&text, "%s\n%s", error, tail) < 0) {
		free(tail);
		return -ENOMEM;
	}
	rc = fsutil_write_atomic(path, text, strlen(text));
	free(text);
	free(tail);
	return rc;
}

int store_failure_get(const struct store *s, const char *id, char *error, size_t errlen, char **tail)
{
	char *text = NULL, *nl;

	*tail = NULL;
	if (store_read_small(s, STORE_FAILED, id, &text))
		return -ENOENT;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	snprintf(error, errlen, "%s", text);
	*tail = nl ? strdup(nl + 1) : NULL;
	free(text);
	return 0;
}

void store_failure_clear(const struct store *s, const char *id)
{
	char path[STORE_PATH_MAX];

	if (store_path_in(s, STORE_FAILED, id, NULL, path, sizeof(path)) == 0)
		unlink(path);
}
