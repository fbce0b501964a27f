/* urlname.c - names from URLs are decoded strictly and checked against one allowlist. */
#include "http/urlname.h"

#include <errno.h>
#include <string.h>

#define URLNAME_POISON 0x7f

static int urlname_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t urlname_unescape(char *s)
{
	char *out = s;
	const char *in = s;

	while (*in) {
		if (*in == '%') {
			int hi = urlname_hexval(in[1]);
			int lo = hi < 0 ? -1 : urlname_hexval(in[2]);

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
	size_t n = 0;

	if (name[0] == '.' || name[0] == '\0')
		return false;
	for (; name[n]; n++) {
		char c = name[n];

		if (n >= URLNAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	return true;
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
