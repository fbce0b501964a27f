/* digest.c - SHA-256 through OpenSSL's EVP interface. */
#include "lib/digest.h"
#include "lib/names.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

static void digest_to_hex(const unsigned char *md, unsigned len, char hex[DIGEST_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < len && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

int digest_sha256_fd(int fd, char hex[DIGEST_HEX_LEN])
{
	unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	off_t off = 0;
	EVP_MD_CTX *ctx;
	int rc = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			rc = -EIO;
			goto out;
		}
		off += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		rc = -EIO;
		goto out;
	}
	digest_to_hex(md, mdlen, hex);
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int digest_sha256_buf(const void *data, size_t len, char hex[DIGEST_HEX_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -EIO;
	digest_to_hex(md, mdlen, hex);
	return 0;
}

int digest_is_hex(const char *s)
{
	return names_hex_lower(s, DIGEST_HEX_LEN - 1);
}
