/* httpdate.h - HTTP dates (IMF-fixdate, RFC 9110 5.6.7). */
#ifndef TINYBOOT_HTTPDATE_H
#define TINYBOOT_HTTPDATE_H

#include <stddef.h>
#include <time.h>

#define HTTPDATE_LEN 64 /* "Sun, 06 Nov 1994 08:49:37 GMT" is 29; room for any int fields */

void httpdate_format(time_t t, char buf[HTTPDATE_LEN]);
/* Accepts IMF-fixdate, the obsolete RFC 850 form and asctime. Returns 0 or -EINVAL. */
int httpdate_parse(const char *s, time_t *out);

#endif
