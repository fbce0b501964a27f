/* urlname.c - names from URLs are decoded strictly and checked against one allowlist. */
#include "http/urlname.h"

#include <errno.h>
#include <string.h>

#include "lib/names.h"

#define URLNAME_POISON 0x7f

size_t urlname_unescape(char *s)
{
	char *out = s;
	const char *in = s;

	while (*in) {
		if (*in == '%') {
			int hi = names_hexval(in[1]);
			int lo = hi < 0 ? -1 : names_hexval(in[2]);

			if (hi < 0 || lo < 0) {
				*out++ = URLNAME_POISON;
				in++;
				continue;
			}
			unsigned char c = (unsigned char)(hi << 4 | lo);

			*out++ = (c < 0x20 || c == 0x7f) ? URLNAME_POISON : (char)c;
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

bool urlname_valid(const char *name)
{
	return names_file_valid(name);
}

int urlname_split(char *path, char **parts, int max)
{
	size_t len = strlen(path);
	int count = 0;
	char *p;

	if (path[0] != '/' || len > URLNAME_PATH_MAX)
		return -EINVAL;
	if (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	p = path + 1;
	if (*p == '\0')
		return 0;
	for (;;) {
		char *slash = strchr(p, '/');

		if (slash)
			*slash = '\0';
		if (count == max || !urlname_valid(p))
			return -EINVAL;
		parts[count++] = p;
		if (!slash)
			return count;
		p = slash + 1;
	}
}
