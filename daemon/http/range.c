/* range.c - parse "bytes=a-b", "bytes=a-" and "bytes=-n" against a file size. */
#include "http/range.h"

#include <ctype.h>
#include <stdbool.h>
#include <strings.h>

static bool range_number(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

static void range_skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

enum range_result range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *length)
{
	const char *p = header;
	uint64_t first, last;
	bool have_first;

	range_skip_space(&p);
	if (strncasecmp(p, "bytes", 5) != 0)
		return RANGE_NONE;
	p += 5;
	range_skip_space(&p);
	if (*p++ != '=')
		return RANGE_NONE;
	range_skip_space(&p);
	have_first = range_number(&p, &first);
	range_skip_space(&p);
	if (*p++ != '-')
		return RANGE_NONE;
	range_skip_space(&p);
	if (!have_first) {
		/* suffix range: the last n bytes */
		if (!range_number(&p, &last))
			return RANGE_NONE;
		range_skip_space(&p);
		if (*p)
			return RANGE_NONE;
		if (last == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		if (last > size)
			last = size;
		*start = size - last;
		*length = last;
		return RANGE_OK;
	}
	if (range_number(&p, &last)) {
		if (last < first)
			return RANGE_NONE;
	} else {
		last = UINT64_MAX;
	}
	range_skip_space(&p);
	if (*p)
		return RANGE_NONE; /* a list of ranges, or junk */
	if (first >= size)
		return RANGE_UNSATISFIABLE;
	if (last >= size)
		last = size - 1;
	*start = first;
	*length = last - first + 1;
	return RANGE_OK;
}
