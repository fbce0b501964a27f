/* range.h - the single byte range of an HTTP Range header. */
#ifndef TINYBOOT_RANGE_H
#define TINYBOOT_RANGE_H

#include <stdint.h>

enum range_result {
	RANGE_NONE,          /* no usable range: send the whole representation (RFC 9110 14.2) */
	RANGE_OK,            /* send [start, start+length) with 206 */
	RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * / size */
};

/* Multiple ranges are answered with the whole file (allowed, and no boot client asks for them). */
enum range_result range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *length);

#endif
