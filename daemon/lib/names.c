/* names.c - the checks every parser shares: character sets, hex digits, file names, trim, gen/N. */
#include "lib/names.h"

#include <errno.h>
#include <string.h>

bool names_charset(const char *s, size_t max, unsigned classes, const char *extra)
{
	size_t n;

	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n >= max)
			return false;
		if ((classes & NAMES_LOWER) && c >= 'a' && c <= 'z')
			continue;
		if ((classes & NAMES_UPPER) && c >= 'A' && c <= 'Z')
			continue;
		if ((classes & NAMES_DIGIT) && c >= '0' && c <= '9')
			continue;
		if (!extra || !strchr(extra, c))
			return false;
	}
	return n > 0;
}

int names_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool names_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (names_hexval(s[i]) < 0)
			return false;
	return s[len] == '\0';
}

bool names_hex_lower(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (names_hexval(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
			return false;
	return s[len] == '\0';
}

char names_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool names_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

char *names_trim(char *s)
{
	char *end;

	while (names_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && names_space(end[-1]))
		*--end = '\0';
	return s;
}

bool names_file_valid(const char *s)
{
	return s[0] != '.' && names_charset(s, NAMES_FILE_MAX, NAMES_ALNUM, "._+-");
}

int names_gen_size(const char *s, uint64_t *n)
{
	uint64_t v = 0;
	size_t i;

	/* ten digits hold 1 GiB; more cannot fit and must not overflow v */
	if (s[0] < '1' || s[0] > '9')
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > NAMES_GEN_MAX)
		return -ERANGE;
	*n = v;
	return 0;
}
