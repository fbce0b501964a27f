/* report.h - a guest's report: checked field by field, and cut down to the fields it may hold. */
#ifndef TINYBOOT_REPORT_H
#define TINYBOOT_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What a checked report says; the strings point into the report. */
struct report_info {
	const char *token;   /* "boot": the 32-hex-digit token from tinyboot.boot=; required */
	const char *machine; /* "id": the machine's name */
	bool ok;             /* every payload checked out and "ok" was not false */
};

/* Check a guest's report body. On success *clean is a new object with the known fields only
 * (what is stored), and info points into it. 0, or -EINVAL with err filled. */
int report_validate(json_t *report, json_t **clean, struct report_info *info, char *err,
		    size_t errlen);
/* The known fields of a report (a journal written before reports were cut down keeps whatever
 * a guest sent); a new object, or NULL when report is not an object. */
json_t *report_filter(json_t *report);

#endif
