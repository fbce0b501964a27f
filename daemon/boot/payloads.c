/* payloads.c - generated streams need no disk; manifests tell guests what to fetch and expect. */
#include "boot/payloads.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/machines.h"
#include "lib/etag.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/names.h"

#define PAYLOADS_SHA_SLOTS 8

/* splitmix64: fast, and every 8-byte word depends only on its index */
static uint64_t payloads_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void payloads_gen_fill(uint64_t pos, char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t word = payloads_mix((pos + i) / 8);
		unsigned off = (unsigned)((pos + i) % 8);

		for (; off < 8 && i < len; off++, i++)
			buf[i] = (char)(word >> (8 * off));
	}
}

int payloads_gen_size(const char *s, uint64_t *n)
{
	return names_gen_size(s, n);
}

static struct {
	pthread_mutex_t lock;
	uint64_t n[PAYLOADS_SHA_SLOTS];
	char hex[PAYLOADS_SHA_SLOTS][DIGEST_HEX_LEN];
	unsigned next;
} payloads_shas = { .lock = PTHREAD_MUTEX_INITIALIZER };

int payloads_gen_sha256(uint64_t n, char hex[DIGEST_HEX_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char *buf;
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;

	pthread_mutex_lock(&payloads_shas.lock);
	for (unsigned i = 0; i < PAYLOADS_SHA_SLOTS; i++) {
		if (payloads_shas.n[i] == n) {
			memcpy(hex, payloads_shas.hex[i], DIGEST_HEX_LEN);
			pthread_mutex_unlock(&payloads_shas.lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&payloads_shas.lock);

	buf = malloc(PAYLOADS_GEN_BLOCK);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		free(buf);
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	for (uint64_t pos = 0; pos < n; pos += PAYLOADS_GEN_BLOCK) {
		size_t len = n - pos < PAYLOADS_GEN_BLOCK ? (size_t)(n - pos) : PAYLOADS_GEN_BLOCK;

		payloads_gen_fill(pos, buf, len);
		EVP_DigestUpdate(ctx, buf, len);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	free(buf);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	pthread_mutex_lock(&payloads_shas.lock);
	payloads_shas.n[payloads_shas.next] = n;
	memcpy(payloads_shas.hex[payloads_shas.next], hex, DIGEST_HEX_LEN);
	payloads_shas.next = (payloads_shas.next + 1) % PAYLOADS_SHA_SLOTS;
	pthread_mutex_unlock(&payloads_shas.lock);
	return 0;
}

const struct machine *payloads_machine(const struct machines *ms, const char *id)
{
	const struct machine *m = machines_by_name(ms, id);

	/* a machine on the default entry is named after its MAC, as http_boot_name writes it:
	 * 12 lowercase hex digits; anything else names no machine (not the default entry) */
	if (!m && strncmp(id, "mac-", 4) == 0 && names_hex_lower(id + 4, 12)) {
		char mac[18];

		snprintf(mac, sizeof(mac), "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", id + 4, id + 6, id + 8,
			 id + 10, id + 12, id + 14);
		m = machines_find(ms, mac, NULL);
	}
	return m;
}

/* The checksum NAME.sha256 pins: 64 hex digits at its start. Absent, unreadable or not
 * 64 hex digits: none (the file's own checksum stands); never waited on when it is a FIFO. */
static bool payloads_pin(int payloads_fd, const char *name, char hex[DIGEST_HEX_LEN])
{
	char pin[300], buf[80];
	struct stat st;
	ssize_t n;
	int fd;

	if (snprintf(pin, sizeof(pin), "%s.sha256", name) >= (int)sizeof(pin))
		return false;
	fd = fsutil_open_regular(payloads_fd, pin, O_NOFOLLOW, &st);
	if (fd == -EINVAL)
		log_warnx("payload %s: %s is not a regular file; ignored", name, pin);
	if (fd < 0)
		return false;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 64)
		return false;
	buf[64] = '\0';
	if (!digest_is_hex(buf))
		return false;
	memcpy(hex, buf, DIGEST_HEX_LEN);
	return true;
}

/* The file's own checksum, unless NAME.sha256 beside it pins another one. Only a regular file
 * is a payload: a FIFO, a device or a directory is -ENOENT. */
static int payloads_file_entry(int payloads_fd, struct etag_cache *etags, const char *name,
			       uint64_t *size, char hex[DIGEST_HEX_LEN])
{
	char etag[ETAG_LEN];
	struct stat st;
	int fd, rc;

	fd = fsutil_open_regular(payloads_fd, name, O_NOFOLLOW, &st);
	if (fd < 0)
		return fd == -EINVAL ? -ENOENT : fd;
	*size = (uint64_t)st.st_size;
	rc = etag_cache_get(etags, fd, &st, etag);
	close(fd);
	if (rc)
		return rc;
	memcpy(hex, etag + 1, 64);
	hex[64] = '\0';
	payloads_pin(payloads_fd, name, hex);
	return 0;
}

int payloads_entry(int payloads_fd, struct etag_cache *etags, const char *name, uint64_t *size,
		   char hex[DIGEST_HEX_LEN])
{
	int rc;

	if (strncmp(name, "gen/", 4) != 0)
		return payloads_file_entry(payloads_fd, etags, name, size, hex);
	rc = payloads_gen_size(name + 4, size);
	if (!rc)
		rc = payloads_gen_sha256(*size, hex);
	return rc;
}

int payloads_manifest(const struct machine *m, int payloads_fd, struct etag_cache *etags,
		      char **out, size_t *len, const char **failed)
{
	size_t used = 0, cap = 64;
	char *body = malloc(cap);

	*failed = NULL;
	if (!body)
		return -ENOMEM;
	body[0] = '\0';
	for (size_t i = 0; i < m->npayloads; i++) {
		const char *name = m->payloads[i];
		char hex[DIGEST_HEX_LEN], line[400];
		uint64_t size = 0;
		int rc, n;

		rc = payloads_entry(payloads_fd, etags, name, &size, hex);
		if (rc) {
			free(body);
			*failed = name;
			return rc;
		}
		n = snprintf(line, sizeof(line), "%s %" PRIu64 " %s\n", hex, size, name);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			free(body);
			*failed = name;
			return -ENAMETOOLONG;
		}
		if (used + (size_t)n + 1 > cap) {
			char *grown;

			cap = (cap + (size_t)n + 1) * 2;
			grown = realloc(body, cap);
			if (!grown) {
				free(body);
				return -ENOMEM;
			}
			body = grown;
		}
		memcpy(body + used, line, (size_t)n + 1);
		used += (size_t)n;
	}
	*out = body;
	*len = used;
	return 0;
}
