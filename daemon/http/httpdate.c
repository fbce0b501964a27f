/* httpdate.c - format and parse HTTP dates without depending on the locale. */
#include "http/httpdate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const httpdate_days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const httpdate_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void httpdate_format(time_t t, char buf[HTTPDATE_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, HTTPDATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", httpdate_days[tm.tm_wday],
		 tm.tm_mday, httpdate_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

static int httpdate_month(const char *name)
{
	for (int i = 0; i < 12; i++)
		if (strncmp(name, httpdate_months[i], 3) == 0)
			return i;
	return -1;
}

static int httpdate_valid(struct tm *tm, int year, int mon, int day, int h, int m, int s)
{
	if (mon < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 || year < 1970 || year > 9999)
		return -EINVAL;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = year - 1900;
	tm->tm_mon = mon;
	tm->tm_mday = day;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = s;
	return 0;
}

int httpdate_parse(const char *s, time_t *out)
{
	char wday[16], mon[4];
	int day, year, h, m, sec, n = 0;
	struct tm tm;

	mon[0] = '\0';
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &h, &m, &sec,
		   &n) == 7 && n > 0 && s[n] == '\0') {
		if (httpdate_valid(&tm, year, httpdate_month(mon), day, h, m, sec))
			return -EINVAL;
	/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
	} else if (sscanf(s, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wday, &day, mon, &year,
			  &h, &m, &sec, &n) == 7 && n > 0 && s[n] == '\0') {
		year += year < 70 ? 2000 : 1900;
		if (httpdate_valid(&tm, year, httpdate_month(mon), day, h, m, sec))
			return -EINVAL;
	/* asctime: Sun Nov  6 08:49:37 1994 */
	} else if (sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &day, &h, &m, &sec, &year,
			  &n) == 7 && n > 0 && s[n] == '\0') {
		if (httpdate_valid(&tm, year, httpdate_month(mon), day, h, m, sec))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*out = timegm(&tm);
	return 0;
}
