/* conffile.h - the one line reader behind every config file, and its one message format. */
#ifndef TINYBOOT_CONFFILE_H
#define TINYBOOT_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>

#define CONFFILE_FILE_MAX (16 * 1024 * 1024) /* bytes of a file, when the reader names no cap */
#define CONFFILE_LINE_MAX 4096               /* bytes of a line without its '\n', likewise */
#define CONFFILE_SHOWN_MAX 64                /* bytes of a value quoted in a message */

/*
 * One file being read. Every message it writes is one line, "NAME:LINE: what", or "NAME: what"
 * for the file as a whole (open, size, I/O):
 *   NAME:LINE: line longer than LINE_MAX bytes
 *   NAME:LINE: NUL byte in line
 *   NAME:LINE: expected 'key = value'
 *   NAME:LINE: unknown key 'KEY'
 */
struct conffile {
	/* set by the caller */
	const char *path;  /* the file to open */
	const char *name;  /* the file as messages name it; NULL: path */
	size_t file_max;   /* 0: CONFFILE_FILE_MAX */
	size_t line_max;   /* bytes of one line, '\r' included, '\n' not; 0: CONFFILE_LINE_MAX */
	bool nofollow;     /* refuse a symlink */
	char *err;         /* the message goes here; NULL (or errlen 0): only the code */
	size_t errlen;
	/* set while parsing */
	unsigned line;     /* the line being handled, from 1 */
};

/*
 * Called for every line that is neither blank nor a comment ('#' as its first non-blank byte),
 * trimmed of white space at both ends (so a CRLF file reads like an LF one), NUL-terminated and
 * writable. Return 0 to go on; anything else stops the file and is returned. Report a bad line
 * with conffile_error(), which returns -EINVAL; any other -errno gets "NAME:LINE: strerror".
 */
typedef int conffile_fn(struct conffile *cf, char *line, void *arg);

/*
 * Read the whole file: a regular file of at most file_max bytes, NUL-terminated in *text (the
 * caller frees it). 0, or -errno with "NAME: what" in cf->err: -ENOENT and other open errors,
 * -EINVAL not a regular file, -EFBIG over file_max, -ENOMEM, -EIO.
 */
int conffile_load(struct conffile *cf, char **text, size_t *len);
/* Hand text's lines to fn, in order, numbered; text (len bytes and one more, writable, as
 * conffile_load gives it) is changed in place. A line over line_max or holding a NUL byte ends it
 * with -EINVAL before fn sees it. */
int conffile_parse(struct conffile *cf, char *text, size_t len, conffile_fn *fn, void *arg);
/* conffile_load, then conffile_parse. */
int conffile_read(struct conffile *cf, conffile_fn *fn, void *arg);

/* Split "key = value" at the first '=' into trimmed halves (the value may be empty).
 * 0, or -EINVAL with "expected 'key = value'" when there is no '=' or no key. */
int conffile_split(struct conffile *cf, char *line, char **key, char **value);

/* Write "NAME:LINE: what" for the current line; returns -EINVAL. */
int conffile_error(struct conffile *cf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for another line; line 0 names the whole file ("NAME: what"). */
int conffile_error_at(struct conffile *cf, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "unknown key 'KEY'" (KEY as conffile_shown() gives it); returns -EINVAL. */
int conffile_unknown_key(struct conffile *cf, const char *key);
/* s made fit to quote in a message: printable ASCII ('?' for other bytes), cut after
 * CONFFILE_SHOWN_MAX bytes with "...", so a log line stays one line. Returns out. */
const char *conffile_shown(const char *s, char out[CONFFILE_SHOWN_MAX + 4]);

#endif
