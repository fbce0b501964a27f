/* machines.c - parse machines.conf and look machines up by MAC, UUID or name. */
#include "conf/machines.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/recipe.h"
#include "http/urlname.h"

struct machines {
	struct machine *v;
	size_t n, cap;
};

struct machines_parser {
	const char *path;
	unsigned lineno;
	struct machines *m;
	char *err;
	size_t errlen;
};

/* ---- small validators ---- */

static int machines_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char machines_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int machines_normalize_mac(const char *in, char out[18])
{
	char buf[18];
	size_t len, step;
	char sep = '\0';

	if (!in)
		return -EINVAL;
	len = strnlen(in, sizeof(buf));
	if (len == 12) {
		step = 2;
	} else if (len == 17) {
		/* the first separator decides; "52:54-00..." is a typo, not a MAC */
		sep = in[2];
		if (sep != ':' && sep != '-')
			return -EINVAL;
		step = 3;
	} else {
		return -EINVAL;
	}
	for (size_t i = 0; i < 6; i++) {
		const char *p = in + i * step;

		if (machines_hexval(p[0]) < 0 || machines_hexval(p[1]) < 0)
			return -EINVAL;
		if (sep && i < 5 && p[2] != sep)
			return -EINVAL;
		buf[i * 3] = machines_lower(p[0]);
		buf[i * 3 + 1] = machines_lower(p[1]);
		buf[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	memcpy(out, buf, sizeof(buf));
	return 0;
}

int machines_normalize_uuid(const char *in, char out[37])
{
	char buf[37];

	if (!in || strnlen(in, sizeof(buf)) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;

		if (hyphen ? in[i] != '-' : machines_hexval(in[i]) < 0)
			return -EINVAL;
		buf[i] = machines_lower(in[i]);
	}
	buf[36] = '\0';
	memcpy(out, buf, sizeof(buf));
	return 0;
}

/* SMBIOS says all-zero means "not set" and all-ones "not present": many machines share them. */
static bool machines_uuid_placeholder(const char *uuid)
{
	return strcmp(uuid, "00000000-0000-0000-0000-000000000000") == 0 ||
	       strcmp(uuid, "ffffffff-ffff-ffff-ffff-ffffffffffff") == 0;
}

static bool machines_charset_ok(const char *s, size_t max, const char *extra)
{
	size_t n;

	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c)))
			return false;
	}
	return n > 0;
}

static bool machines_name_valid(const char *s)
{
	return machines_charset_ok(s, MACHINES_NAME_MAX, "_-");
}

static bool machines_variant_valid(const char *s)
{
	return machines_charset_ok(s, MACHINES_VARIANT_MAX, "_+-");
}

/* "gen/N": N in 1..MACHINES_GEN_MAX, plain decimal, so one size has exactly one spelling. */
static bool machines_gen_valid(const char *s)
{
	unsigned long v = 0;
	size_t n;

	if (strncmp(s, "gen/", 4) != 0)
		return false;
	s += 4;
	if (s[0] < '1' || s[0] > '9')
		return false;
	for (n = 0; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 10)
			return false;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	return v <= MACHINES_GEN_MAX;
}

static bool machines_payload_valid(const char *s)
{
	return urlname_valid(s) || machines_gen_valid(s);
}

/* "A.B.C.D/P", stored in inet_ntop's spelling. */
static int machines_parse_ip(const char *val, char out[19])
{
	const char *slash = strchr(val, '/');
	char addr[INET_ADDRSTRLEN], txt[INET_ADDRSTRLEN];
	struct in_addr a;
	unsigned prefix = 0;
	size_t alen, n;

	if (!slash)
		return -EINVAL;
	alen = (size_t)(slash - val);
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, val, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		return -EINVAL;
	slash++;
	for (n = 0; slash[n]; n++) {
		if (slash[n] < '0' || slash[n] > '9' || n >= 2)
			return -EINVAL;
		prefix = prefix * 10 + (unsigned)(slash[n] - '0');
	}
	if (n == 0 || (n == 2 && slash[0] == '0') || prefix > 32)
		return -EINVAL;
	if (!inet_ntop(AF_INET, &a, txt, sizeof(txt)))
		return -EINVAL;
	if (snprintf(out, 19, "%s/%u", txt, prefix) >= 19)
		return -EINVAL;
	return 0;
}

static int machines_parse_ipv4(const char *val, char out[16])
{
	struct in_addr a;

	if (inet_pton(AF_INET, val, &a) != 1 || !inet_ntop(AF_INET, &a, out, 16))
		return -EINVAL;
	return 0;
}

/* ---- errors ---- */

/* A value quoted in an error: printable ASCII only, cut short, so a log line stays one line. */
#define MACHINES_SHOWN_MAX 64

static const char *machines_shown(const char *s, char out[MACHINES_SHOWN_MAX + 4])
{
	size_t n;

	for (n = 0; s[n] && n < MACHINES_SHOWN_MAX; n++)
		out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
	if (s[n]) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int machines_perr(struct machines_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int machines_perr(struct machines_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->path, p->lineno, msg);
	return -EINVAL;
}

/* ---- one entry ---- */

static void machines_machine_clear(struct machine *mc)
{
	for (size_t i = 0; i < mc->npayloads; i++)
		free(mc->payloads[i]);
	free(mc->payloads);
	free(mc->variant);
	free(mc->args);
	memset(mc, 0, sizeof(*mc));
}

/* The comma list in val, each element checked; the array is sized by counting commas first. */
static int machines_parse_payloads(struct machines_parser *p, struct machine *mc, char *val)
{
	char shown[MACHINES_SHOWN_MAX + 4];
	size_t count = 1;
	char *s = val;

	for (const char *c = val; *c; c++)
		count += *c == ',';
	if (count > MACHINES_PAYLOADS_MAX)
		return machines_perr(p, "too many payloads (at most %d)", MACHINES_PAYLOADS_MAX);
	mc->payloads = calloc(count, sizeof(*mc->payloads));
	if (!mc->payloads)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		char *comma = strchr(s, ',');

		if (comma)
			*comma = '\0';
		if (!machines_payload_valid(s))
			return machines_perr(p, "bad payload '%s': want a file name or gen/N (N 1-%lu)",
					     machines_shown(s, shown), MACHINES_GEN_MAX);
		mc->payloads[i] = strdup(s);
		if (!mc->payloads[i])
			return -ENOMEM;
		mc->npayloads++;
		s = comma ? comma + 1 : s + strlen(s);
	}
	return 0;
}

/* Commas separate args in the file because spaces separate pairs; stored space-joined. */
static int machines_parse_args(struct machines_parser *p, struct machine *mc, char *val)
{
	char shown[MACHINES_SHOWN_MAX + 4];
	char *s = val;

	for (;;) {
		char *comma = strchr(s, ',');

		if (comma)
			*comma = '\0';
		if (!*s || strchr(s, ' ') || !recipe_cmdline_valid(s))
			return machines_perr(p, "bad kernel argument '%s'", machines_shown(s, shown));
		if (!comma)
			break;
		*comma = ' ';
		s = comma + 1;
	}
	/* every piece was valid, so only the total length can fail here */
	if (!recipe_cmdline_valid(val))
		return machines_perr(p, "args too long");
	free(mc->args);
	mc->args = strdup(val);
	return mc->args ? 0 : -ENOMEM;
}

enum machines_key {
	MACHINES_KEY_NAME,
	MACHINES_KEY_VARIANT,
	MACHINES_KEY_IP,
	MACHINES_KEY_GW,
	MACHINES_KEY_NET,
	MACHINES_KEY_PAYLOADS,
	MACHINES_KEY_ARGS,
	MACHINES_KEY_UUID,
	MACHINES_KEY_COUNT
};

static const char *const machines_keys[MACHINES_KEY_COUNT] = {
	[MACHINES_KEY_NAME] = "name",
	[MACHINES_KEY_VARIANT] = "variant",
	[MACHINES_KEY_IP] = "ip",
	[MACHINES_KEY_GW] = "gw",
	[MACHINES_KEY_NET] = "net",
	[MACHINES_KEY_PAYLOADS] = "payloads",
	[MACHINES_KEY_ARGS] = "args",
	[MACHINES_KEY_UUID] = "uuid",
};

struct machines_seen {
	bool key[MACHINES_KEY_COUNT];
	bool net_given;
};

static int machines_parse_pair(struct machines_parser *p, struct machine *mc,
			       struct machines_seen *seen, char *tok)
{
	char shown[MACHINES_SHOWN_MAX + 4];
	char *eq = strchr(tok, '=');
	char *val;
	int k;

	if (!eq || eq == tok)
		return machines_perr(p, "expected key=value, got '%s'", machines_shown(tok, shown));
	*eq = '\0';
	val = eq + 1;
	for (k = 0; k < MACHINES_KEY_COUNT; k++)
		if (strcmp(tok, machines_keys[k]) == 0)
			break;
	if (k == MACHINES_KEY_COUNT)
		return machines_perr(p, "unknown key '%s'", machines_shown(tok, shown));
	if (seen->key[k])
		return machines_perr(p, "%s given twice", tok);
	seen->key[k] = true;
	if (!*val)
		return machines_perr(p, "%s= is empty", tok);

	switch ((enum machines_key)k) {
	case MACHINES_KEY_NAME:
		if (!machines_name_valid(val))
			return machines_perr(p, "bad name '%s': want 1-32 of [a-z0-9_-]",
					     machines_shown(val, shown));
		memcpy(mc->name, val, strlen(val) + 1);
		return 0;
	case MACHINES_KEY_VARIANT:
		if (!machines_variant_valid(val))
			return machines_perr(p, "bad variant '%s': want 1-255 of [a-z0-9_+-]",
					     machines_shown(val, shown));
		mc->variant = strdup(val);
		return mc->variant ? 0 : -ENOMEM;
	case MACHINES_KEY_IP:
		if (machines_parse_ip(val, mc->ip) < 0)
			return machines_perr(p, "bad ip '%s': want an IPv4 address and /prefix (0-32)",
					     machines_shown(val, shown));
		return 0;
	case MACHINES_KEY_GW:
		if (machines_parse_ipv4(val, mc->gw) < 0)
			return machines_perr(p, "bad gw '%s': want an IPv4 address",
					     machines_shown(val, shown));
		return 0;
	case MACHINES_KEY_NET:
		if (strcmp(val, "dhcp") == 0)
			mc->dhcp = true;
		else if (strcmp(val, "static") != 0)
			return machines_perr(p, "bad net '%s': want static or dhcp",
					     machines_shown(val, shown));
		seen->net_given = true;
		return 0;
	case MACHINES_KEY_PAYLOADS:
		return machines_parse_payloads(p, mc, val);
	case MACHINES_KEY_ARGS:
		return machines_parse_args(p, mc, val);
	case MACHINES_KEY_UUID:
		if (machines_normalize_uuid(val, mc->uuid) < 0)
			return machines_perr(p, "bad uuid '%s': want 8-4-4-4-12 hex digits",
					     machines_shown(val, shown));
		if (machines_uuid_placeholder(mc->uuid))
			return machines_perr(p, "uuid %s is a firmware placeholder, not one machine's",
					     mc->uuid);
		return 0;
	case MACHINES_KEY_COUNT:
		break;
	}
	return -EINVAL;
}

/* Rules that need the whole line, then the defaults. */
static int machines_finish(struct machines_parser *p, struct machine *mc,
			   const struct machines_seen *seen)
{
	if (!mc->variant)
		return machines_perr(p, "missing variant=");
	if (seen->net_given && !mc->dhcp && !mc->ip[0])
		return machines_perr(p, "net=static needs ip=");
	if (seen->net_given && mc->dhcp && mc->ip[0])
		return machines_perr(p, "net=dhcp conflicts with ip=");
	if (mc->gw[0] && !mc->ip[0])
		return machines_perr(p, "gw= needs ip=");
	if (!seen->net_given)
		mc->dhcp = !mc->ip[0];
	if (!mc->args) {
		mc->args = strdup("");
		if (!mc->args)
			return -ENOMEM;
	}
	if (!mc->name[0]) {
		if (mc->is_default) {
			memcpy(mc->name, "default", sizeof("default"));
		} else {
			char *o = mc->name;

			memcpy(o, "mac-", 4);
			o += 4;
			for (const char *c = mc->mac; *c; c++)
				if (*c != ':')
					*o++ = *c;
			*o = '\0';
		}
	}
	return 0;
}

static int machines_check_unique(struct machines_parser *p, const struct machine *mc)
{
	for (size_t i = 0; i < p->m->n; i++) {
		const struct machine *o = &p->m->v[i];

		if (strcmp(o->name, mc->name) == 0)
			return machines_perr(p, "duplicate name '%s' (first on line %u)", mc->name,
					     o->line);
		if (mc->uuid[0] && strcmp(o->uuid, mc->uuid) == 0)
			return machines_perr(p, "duplicate uuid %s (first on line %u)", mc->uuid,
					     o->line);
	}
	return 0;
}

/* The key comes first so that a repeated MAC or default is reported before its details. */
static int machines_parse_key(struct machines_parser *p, struct machine *mc, const char *tok)
{
	char shown[MACHINES_SHOWN_MAX + 4];

	if (strcmp(tok, "default") == 0)
		mc->is_default = true;
	else if (machines_normalize_mac(tok, mc->mac) < 0)
		return machines_perr(p, "'%s' is not a MAC address or 'default'",
				     machines_shown(tok, shown));
	for (size_t i = 0; i < p->m->n; i++) {
		const struct machine *o = &p->m->v[i];

		if (mc->is_default && o->is_default)
			return machines_perr(p, "second 'default' entry (the first is on line %u)",
					     o->line);
		if (!mc->is_default && strcmp(o->mac, mc->mac) == 0)
			return machines_perr(p, "duplicate MAC %s (first on line %u)", mc->mac,
					     o->line);
	}
	return 0;
}

static int machines_append(struct machines *m, struct machine *mc)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct machine *v;

		if (cap < m->cap || cap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = *mc;
	memset(mc, 0, sizeof(*mc));
	return 0;
}

static bool machines_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* line is NUL-terminated without its '\n'. */
static int machines_parse_line(struct machines_parser *p, char *line)
{
	struct machine mc = { .line = p->lineno };
	struct machines_seen seen = { 0 };
	char *s = line, *tok;
	int rc = 0;
	bool first = true;

	while (machines_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	while (rc == 0 && *s) {
		tok = s;
		while (*s && !machines_blank(*s))
			s++;
		if (*s)
			*s++ = '\0';
		while (machines_blank(*s))
			s++;
		if (first)
			rc = machines_parse_key(p, &mc, tok);
		else
			rc = machines_parse_pair(p, &mc, &seen, tok);
		first = false;
	}
	if (rc == 0)
		rc = machines_finish(p, &mc, &seen);
	if (rc == 0)
		rc = machines_check_unique(p, &mc);
	if (rc == 0)
		rc = machines_append(p->m, &mc);
	machines_machine_clear(&mc);
	return rc;
}

/* ---- the file ---- */

static int machines_read(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0, cap;
	char *buf = NULL;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail_close;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = -EINVAL;
		goto fail_close;
	}
	if (st.st_size > MACHINES_FILE_MAX)
		goto too_big;
	/* sized from fstat, plus room to notice (and follow) a file that grows while read */
	cap = (size_t)st.st_size + 4096;
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto fail_close;
	}
	for (;;) {
		ssize_t r;

		if (len == cap - 1) {
			char *nbuf;

			if (cap > MACHINES_FILE_MAX)
				goto too_big;
			cap *= 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				rc = -ENOMEM;
				goto fail_free;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto fail_free;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > MACHINES_FILE_MAX)
		goto too_big;
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;

too_big:
	snprintf(err, errlen, "%s: larger than %d bytes", path, MACHINES_FILE_MAX);
	rc = -EFBIG;
fail_free:
	free(buf);
fail_close:
	close(fd);
fail:
	if (rc != -EINVAL && rc != -EFBIG)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int machines_load(const char *path, struct machines **out, char *err, size_t errlen)
{
	struct machines_parser p = { .path = path, .err = err, .errlen = errlen };
	char dummy[1];
	char *buf = NULL, *line;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!err || !errlen) {
		/* callers that do not want the message still get the code */
		err = dummy;
		errlen = sizeof(dummy);
		p.err = err;
		p.errlen = errlen;
	}
	rc = machines_read(path, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	p.m = calloc(1, sizeof(*p.m));
	if (!p.m) {
		rc = -ENOMEM;
		goto fail;
	}
	line = buf;
	while (rc == 0 && line < buf + len) {
		char *nl = memchr(line, '\n', (size_t)(buf + len - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(buf + len - line);

		p.lineno++;
		if (n > MACHINES_LINE_MAX) {
			rc = machines_perr(&p, "line longer than %d bytes", MACHINES_LINE_MAX);
			break;
		}
		if (memchr(line, '\0', n)) {
			rc = machines_perr(&p, "NUL byte in line");
			break;
		}
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		rc = machines_parse_line(&p, line);
		line += n + 1;
	}
fail:
	free(buf);
	if (rc == 0) {
		*out = p.m;
		return 0;
	}
	machines_free(p.m);
	/* syntax errors (-EINVAL) have already said file:line */
	if (rc != -EINVAL)
		snprintf(err, errlen, "%s:%u: %s", path, p.lineno, strerror(-rc));
	return rc;
}

void machines_free(struct machines *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		machines_machine_clear(&m->v[i]);
	free(m->v);
	free(m);
}

/* ---- lookups ---- */

const struct machine *machines_find(const struct machines *m, const char *mac, const char *uuid)
{
	char key[37];

	if (!m)
		return NULL;
	if (machines_normalize_mac(mac, key) == 0) {
		for (size_t i = 0; i < m->n; i++)
			if (!m->v[i].is_default && strcmp(m->v[i].mac, key) == 0)
				return &m->v[i];
	}
	if (machines_normalize_uuid(uuid, key) == 0 && !machines_uuid_placeholder(key)) {
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->v[i].uuid, key) == 0)
				return &m->v[i];
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].is_default)
			return &m->v[i];
	return NULL;
}

const struct machine *machines_by_name(const struct machines *m, const char *name)
{
	if (!m || !name)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

size_t machines_count(const struct machines *m)
{
	return m ? m->n : 0;
}

const struct machine *machines_at(const struct machines *m, size_t i)
{
	return m && i < m->n ? &m->v[i] : NULL;
}
