/* log.c - levelled logging to stderr; journald adds its own timestamps. */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level log_level = LOG_LEVEL_INFO;

static const char *const log_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }

const char *log_level_name(enum log_level level)
{
	return level <= LOG_LEVEL_DEBUG ? log_names[level] : "?";
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (unsigned i = 0; i <= LOG_LEVEL_DEBUG; i++) {
		if (strcasecmp(name, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* One fprintf per line so lines from pool threads never interleave. */
static void log_emit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[2048];
	char stamp[32];
	struct timespec now;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (errnum)
		fprintf(stderr, "%s.%03ldZ %s: %s: %s\n", stamp, now.tv_nsec / 1000000,
			log_names[level], msg, strerror(errnum));
	else
		fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp, now.tv_nsec / 1000000,
			log_names[level], msg);
}

#define LOG_BODY(level, errnum)                                                \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_emit(level, errnum, fmt, ap);                              \
		va_end(ap);                                                    \
	} while (0)

void log_error(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_ERROR, 0); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, 0); }

void log_warn(const char *fmt, ...)
{
	int errnum = errno;

	LOG_BODY(LOG_LEVEL_WARN, errnum);
}

void fatalx(int code, const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 0);
	exit(code);
}
