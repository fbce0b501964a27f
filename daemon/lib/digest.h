/* digest.h - SHA-256 of files and buffers (OpenSSL libcrypto), as lowercase hex. */
#ifndef TINYBOOT_DIGEST_H
#define TINYBOOT_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN 65 /* 64 hex digits + NUL */

/* Hash the whole file behind fd with pread (the file offset is left alone). Returns 0 or -errno. */
int digest_sha256_fd(int fd, char hex[DIGEST_HEX_LEN]);
int digest_sha256_buf(const void *data, size_t len, char hex[DIGEST_HEX_LEN]);
/* True if s is exactly 64 lowercase hex digits. */
int digest_is_hex(const char *s);

#endif
