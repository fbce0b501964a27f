/* options.c - one table drives getopt_long, the config file parser and --help. */
#include "conf/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/pxeopts.h"
#include "lib/conffile.h"
#include "lib/weburl.h"

enum option_type { OPT_STRING, OPT_UINT, OPT_SIZE, OPT_SIZE64, OPT_LEVEL, OPT_ACTION };

struct option_def {
	const char *name;
	int short_flag;
	enum option_type type;
	size_t offset;
	const char *default_value; /* NULL: unset */
	unsigned min, max;
	unsigned flags; /* OPT_CLI_ONLY, OPT_RESTART */
	const char *help;
	/* OPT_STRING: checks the value (0, or -EINVAL with what is wanted); NULL: any */
	int (*check)(const char *value, char *err, size_t errlen);
};

/* Only a command-line flag (an action, or the file's own path): unknown in the file. */
#define OPT_CLI_ONLY 1u
/* Set up once at start (the socket, the state directory's lock and journal, thread pools,
 * libmicrohttpd's limits): a SIGHUP that changes it is refused whole. */
#define OPT_RESTART 2u

#define OFF(field) offsetof(struct options, field)

/* artifact-base-url: it is written into iPXE scripts, so it is checked as a script's server is */
static int options_check_base_url(const char *value, char *err, size_t errlen)
{
	if (weburl_base_valid(value))
		return 0;
	snprintf(err, errlen, "want http:// or https://, HOST[:PORT], then optionally a path of "
		 "[A-Za-z0-9./_-] not ending in '/' (no query, fragment or user)");
	return -EINVAL;
}

static const struct option_def option_table[] = {
	{ "config", 'c', OPT_STRING, OFF(config_path), NULL, 0, 0, OPT_CLI_ONLY,
	  "configuration file (flags given on the command line win over it)", NULL },
	{ "listen", 'l', OPT_STRING, OFF(listen), "127.0.0.1:8080", 0, 0, OPT_RESTART,
	  "ADDR:PORT to listen on; port 0 picks a free one ([::1]:PORT for IPv6)", NULL },
	{ "state", 's', OPT_STRING, OFF(state_dir), "/var/lib/tinyboot", 0, 0, OPT_RESTART,
	  "state directory: artifact cache, build trees, reports", NULL },
	{ "payloads", 'p', OPT_STRING, OFF(payload_dir), NULL, 0, 0, 0,
	  "directory of files guests fetch under /payloads/ (default STATE/payloads)", NULL },
	{ "recipes", 0, OPT_STRING, OFF(recipe_dir), "/usr/local/share/tinyboot/images", 0, 0, 0,
	  "directory of NAME.image recipes", NULL },
	{ "kernel-config", 0, OPT_STRING, OFF(kconfig_dir), "/usr/local/share/tinyboot/kernel-config", 0, 0, 0,
	  "directory of Kconfig fragments (and patches/)", NULL },
	{ "rootfs", 0, OPT_STRING, OFF(rootfs_dir), "/usr/local/share/tinyboot/rootfs", 0, 0, 0,
	  "directory of initramfs overlays and busybox config fragments", NULL },
	{ "www", 0, OPT_STRING, OFF(www_dir), "/usr/local/share/tinyboot/www", 0, 0, 0,
	  "directory of the status page served at / (index.html, status.css, status.js)", NULL },
	{ "sources", 0, OPT_STRING, OFF(sources_file), "/usr/local/etc/tinyboot/sources.conf", 0, 0, 0,
	  "source tarball declarations (URLs and sha256)", NULL },
	{ "machines", 0, OPT_STRING, OFF(machines_file), NULL, 0, 0, 0,
	  "machines.conf: MAC -> variant, address, payloads", NULL },
	{ "threads", 't', OPT_UINT, OFF(threads), "0", 0, 1024, OPT_RESTART,
	  "HTTP worker threads (0: one per CPU)", NULL },
	{ "connection-timeout", 0, OPT_UINT, OFF(connection_timeout), "30", 1, 86400, OPT_RESTART,
	  "seconds an idle connection is kept", NULL },
	{ "header-timeout", 0, OPT_UINT, OFF(header_timeout), "60", 1, 86400, 0,
	  "seconds a client has for a whole request head (from connecting or the previous answer)", NULL },
	{ "body-timeout", 0, OPT_UINT, OFF(body_timeout), "60", 1, 86400, 0,
	  "seconds a client has for a whole request body", NULL },
	{ "max-connections", 0, OPT_UINT, OFF(max_connections), "1000", 1, 100000, OPT_RESTART,
	  "total concurrent connections", NULL },
	{ "max-connections-per-ip", 0, OPT_UINT, OFF(max_connections_per_ip), "0", 0, 100000, OPT_RESTART,
	  "concurrent connections from one client address (0: no limit of its own, max-connections holds)", NULL },
	{ "connection-memory", 0, OPT_SIZE, OFF(connection_memory), "64K", 8192, 16777216, OPT_RESTART,
	  "memory pool per connection (request headers and small bodies)", NULL },
	{ "drain-timeout", 0, OPT_UINT, OFF(drain_timeout), "30", 0, 3600, 0,
	  "seconds SIGTERM waits for transfers in flight", NULL },
	{ "max-kernel-builds", 0, OPT_UINT, OFF(max_kernel_builds), "1", 1, 64, OPT_RESTART,
	  "kernel builds running at once", NULL },
	{ "build-jobs", 'j', OPT_UINT, OFF(build_jobs), "0", 0, 1024, 0,
	  "make -j for each build (0: one per CPU)", NULL },
	{ "retry-after", 0, OPT_UINT, OFF(retry_after), "5", 1, 3600, 0,
	  "Retry-After seconds sent while an image is being built", NULL },
	{ "max-waiting", 0, OPT_UINT, OFF(max_waiting), "64", 0, 100000, 0,
	  "GET /images/...?wait=1 requests held open until their build ends; more are answered "
	  "503 + Retry-After at once (0: none held)", NULL },
	{ "max-queued-builds", 0, OPT_UINT, OFF(max_queued_builds), "8", 1, 10000, 0,
	  "builds queued or running at once; a request that would start one more is answered 429 + "
	  "Retry-After", NULL },
	{ "max-variant-fragments", 0, OPT_UINT, OFF(max_variant_fragments), "4", 0, 64, 0,
	  "extra kernel fragments a variant may name (NAME+a+b: 2); more is answered 400", NULL },
	{ "api-tokens", 0, OPT_STRING, OFF(api_tokens), NULL, 0, 0, 0,
	  "file of NAME TOKEN lines (not readable by others): requests that change state need "
	  "Authorization: Bearer TOKEN; without it they are accepted from loopback only", NULL },
	{ "artifact-base-url", 0, OPT_STRING, OFF(artifact_base_url), NULL, 0, 0, 0,
	  "base URL of a site cache: per-machine scripts fetch built kernels and initrds from "
	  "BASE/artifacts/... (scripts, manifests and reports stay here; default: this server)",
	  options_check_base_url },
	{ "report-timeout", 0, OPT_UINT, OFF(report_timeout), "120", 1, 86400, 0,
	  "seconds after which a boot without a report shows as timed out", NULL },
	{ "boots-log-max-size", 0, OPT_SIZE, OFF(boots_log_max_size), "64M", 65536, 1073741824, OPT_RESTART,
	  "STATE/boots.log is rotated once it has grown by this much past the boots kept in memory", NULL },
	{ "boots-log-keep", 0, OPT_UINT, OFF(boots_log_keep), "4", 0, 10000, OPT_RESTART,
	  "rotated boots.log files kept (boots.log.YYYYMMDDTHHMMSSZ); older ones are deleted", NULL },
	{ "cache-max-size", 0, OPT_SIZE64, OFF(cache_max_size), "0", 0, 0, 0,
	  "built artifacts, kernels and busybox objects kept in STATE; past it the least recently "
	  "served artifacts no machine, pin or open boot needs are evicted (0: unlimited)", NULL },
	{ "keep-builds", 0, OPT_UINT, OFF(keep_builds), "3", 0, 10000, 0,
	  "artifacts of one variant kept, newest first, beside what machines, pins and open boots "
	  "need (0: unlimited)", NULL },
	{ "log-level", 'v', OPT_LEVEL, OFF(log_level), "info", 0, 0, 0,
	  "error, warn, info or debug", NULL },
	{ "pxe", 0, OPT_STRING, OFF(pxe), "off", 0, 0, 0,
	  "PXE service: off; proxy (boot information beside the site's DHCP server); dhcp (the DHCP "
	  "server of an isolated lab segment); proxy and dhcp run dnsmasq", pxeopts_check_mode },
	{ "pxe-interface", 0, OPT_STRING, OFF(pxe_interface), NULL, 0, 0, 0,
	  "the interface on the lab network that DHCP and TFTP are served on", pxeopts_check_interface },
	{ "pxe-server-address", 0, OPT_STRING, OFF(pxe_server_address), NULL, 0, 0, 0,
	  "IPv4 address in the boot URLs (default: pxe-interface's first IPv4 address)",
	  pxeopts_check_address },
	{ "pxe-range", 0, OPT_STRING, OFF(pxe_range), NULL, 0, 0, 0,
	  "FIRST,LAST: the addresses leased in dhcp mode (inside pxe-interface's subnet)",
	  pxeopts_check_range },
	{ "pxe-lease-time", 0, OPT_STRING, OFF(pxe_lease_time), "1h", 0, 0, 0,
	  "lease time in dhcp mode: seconds, or with m, h, d, w; or infinite", pxeopts_check_lease },
	{ "pxe-router", 0, OPT_STRING, OFF(pxe_router), NULL, 0, 0, 0,
	  "default gateway handed out in dhcp mode (default: none)", pxeopts_check_address },
	{ "pxe-dns", 0, OPT_STRING, OFF(pxe_dns), NULL, 0, 0, 0,
	  "DNS servers handed out in dhcp mode, A[,B[,C]] (default: none)", pxeopts_check_dns },
	{ "pxe-dnsmasq", 0, OPT_STRING, OFF(pxe_dnsmasq), NULL, 0, 0, 0,
	  "the dnsmasq program (default: dnsmasq on PATH, else /usr/sbin/dnsmasq)",
	  pxeopts_check_program },
	{ "pxe-boot-programs", 0, OPT_STRING, OFF(pxe_boot_programs), "/usr/lib/ipxe", 0, 0, 0,
	  "where undionly.kpxe, snponly.efi and ipxe.efi are (Debian's ipxe package)",
	  pxeopts_check_path },
	{ "check", 'n', OPT_ACTION, OFF(check_only), NULL, 0, 0, OPT_CLI_ONLY,
	  "check the configuration, print 'configuration OK' or the error, and exit", NULL },
	{ "help", 'h', OPT_ACTION, OFF(show_help), NULL, 0, 0, OPT_CLI_ONLY, "show this help", NULL },
	{ "version", 'V', OPT_ACTION, OFF(show_version), NULL, 0, 0, OPT_CLI_ONLY, "show the version", NULL },
};

#define OPTION_COUNT (sizeof(option_table) / sizeof(option_table[0]))

/* A decimal number, with K, M or G when size_suffix; 0, -EINVAL or -ERANGE (over UINT64_MAX). */
static int option_parse_number(const char *value, bool size_suffix, unsigned long long *out)
{
	char *end;
	unsigned long long v, mult = 1;

	if (!isdigit((unsigned char)value[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno)
		return -EINVAL;
	if (size_suffix && *end) {
		switch (*end) {
		case 'k': case 'K': mult = 1024; break;
		case 'm': case 'M': mult = 1024 * 1024; break;
		case 'g': case 'G': mult = 1024ULL * 1024 * 1024; break;
		default: return -EINVAL;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

static int option_parse_uint(const char *value, unsigned min, unsigned max, bool size_suffix,
			     unsigned *out)
{
	unsigned long long v;
	int rc = option_parse_number(value, size_suffix, &v);

	if (rc)
		return rc;
	if (v > UINT_MAX || v < min || v > max)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

static int option_set(struct options *o, const struct option_def *def, const char *value,
		      char *err, size_t errlen)
{
	char *base = (char *)o;
	int rc;

	switch (def->type) {
	case OPT_STRING: {
		char **slot = (char **)(base + def->offset);
		char *copy;

		if (value[0] == '\0') {
			snprintf(err, errlen, "%s: empty value", def->name);
			return -EINVAL;
		}
		if (def->check) {
			char why[256];

			if (def->check(value, why, sizeof(why))) {
				snprintf(err, errlen, "%s: %s", def->name, why);
				return -EINVAL;
			}
		}
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
		free(*slot);
		*slot = copy;
		return 0;
	}
	case OPT_UINT:
	case OPT_SIZE:
		rc = option_parse_uint(value, def->min, def->max, def->type == OPT_SIZE,
				       (unsigned *)(base + def->offset));
		if (rc)
			snprintf(err, errlen, "%s: '%s' is not a number in %u..%u%s", def->name,
				 value, def->min, def->max, def->type == OPT_SIZE ? " (K/M/G allowed)" : "");
		return rc;
	case OPT_SIZE64: {
		unsigned long long v;

		rc = option_parse_number(value, true, &v);
		if (rc)
			snprintf(err, errlen, "%s: '%s' is not a number of bytes (K/M/G allowed)",
				 def->name, value);
		else
			*(uint64_t *)(base + def->offset) = v;
		return rc;
	}
	case OPT_LEVEL:
		rc = log_level_parse(value, (enum log_level *)(base + def->offset));
		if (rc)
			snprintf(err, errlen, "%s: '%s' is not one of error, warn, info, debug",
				 def->name, value);
		return rc;
	case OPT_ACTION:
		*(bool *)(base + def->offset) = true;
		return 0;
	}
	return -EINVAL;
}

void options_init(struct options *o)
{
	char err[256];

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		if (option_table[i].default_value &&
		    option_set(o, &option_table[i], option_table[i].default_value, err, sizeof(err)))
			abort(); /* a broken default is a programming error */
	}
}

void options_free(struct options *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		if (option_table[i].type == OPT_STRING) {
			char **slot = (char **)((char *)o + option_table[i].offset);

			free(*slot);
			*slot = NULL;
		}
	}
}

int options_parse_argv(struct options *o, int argc, char *const argv[], char *err, size_t errlen)
{
	struct option longopts[OPTION_COUNT + 1];
	char shortopts[OPTION_COUNT * 2 + 2];
	size_t n = 0;
	int c, rc;

	shortopts[n++] = ':';
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct option_def *def = &option_table[i];

		longopts[i].name = def->name;
		longopts[i].has_arg = def->type == OPT_ACTION ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
		if (def->short_flag) {
			shortopts[n++] = (char)def->short_flag;
			if (def->type != OPT_ACTION)
				shortopts[n++] = ':';
		}
	}
	memset(&longopts[OPTION_COUNT], 0, sizeof(longopts[0]));
	shortopts[n] = '\0';

	optind = 0; /* full rescan: argv is parsed again on every reload */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct option_def *def = NULL;

		if (c >= 256) {
			def = &option_table[c - 256];
		} else if (c == '?' || c == ':') {
			snprintf(err, errlen, "%s option '%s'",
				 c == '?' ? "unknown" : "missing value for", argv[optind - 1]);
			return -EINVAL;
		} else {
			for (size_t i = 0; i < OPTION_COUNT; i++)
				if (option_table[i].short_flag == c)
					def = &option_table[i];
		}
		if (!def)
			return -EINVAL;
		rc = option_set(o, def, optarg ? optarg : "", err, errlen);
		if (rc)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* One line of the file: options by their long names; command-line actions are not options here. */
static int option_line(struct conffile *cf, char *line, void *arg)
{
	const struct option_def *def = NULL;
	char *name, *value, msg[512];
	int rc;

	rc = conffile_split(cf, line, &name, &value);
	if (rc)
		return rc;
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (strcmp(option_table[i].name, name) == 0)
			def = &option_table[i];
	if (!def || (def->flags & OPT_CLI_ONLY))
		return conffile_unknown_key(cf, name);
	rc = option_set(arg, def, value, msg, sizeof(msg));
	if (rc == -ENOMEM)
		return rc;
	return rc ? conffile_error(cf, "%s", msg) : 0;
}

int options_load_file(struct options *o, const char *path, char *err, size_t errlen)
{
	struct conffile cf = { .path = path, .err = err, .errlen = errlen };

	return conffile_read(&cf, option_line, o);
}

int options_load(struct options *o, int argc, char *const argv[], char *err, size_t errlen)
{
	char *config = NULL;
	int rc;

	options_init(o);
	rc = options_parse_argv(o, argc, argv, err, errlen);
	if (rc || !o->config_path || o->show_help || o->show_version)
		return rc;
	config = strdup(o->config_path);
	if (!config)
		return -ENOMEM;
	options_free(o);
	options_init(o);
	rc = options_load_file(o, config, err, errlen);
	if (!rc)
		rc = options_parse_argv(o, argc, argv, err, errlen);
	free(config);
	return rc;
}

/* One option's value in two sets the same? Strings may be NULL (unset). */
static bool option_equal(const struct option_def *def, const struct options *a,
			 const struct options *b)
{
	const char *pa = (const char *)a + def->offset, *pb = (const char *)b + def->offset;

	switch (def->type) {
	case OPT_STRING: {
		const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;

		return sa == sb || (sa && sb && strcmp(sa, sb) == 0);
	}
	case OPT_UINT:
	case OPT_SIZE:
		return *(const unsigned *)pa == *(const unsigned *)pb;
	case OPT_SIZE64:
		return *(const uint64_t *)pa == *(const uint64_t *)pb;
	case OPT_LEVEL:
		return *(const enum log_level *)pa == *(const enum log_level *)pb;
	case OPT_ACTION:
		return true;
	}
	return false;
}

unsigned options_restart_changes(const struct options *running, const struct options *loaded,
				 char *names, size_t len)
{
	unsigned changed = 0;
	size_t used = 0;

	if (len)
		names[0] = '\0';
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct option_def *def = &option_table[i];
		int n;

		if (!(def->flags & OPT_RESTART) || option_equal(def, running, loaded))
			continue;
		changed++;
		if (used >= len)
			continue;
		n = snprintf(names + used, len - used, "%s%s", changed > 1 ? ", " : "", def->name);
		used = n < 0 ? len : used + (size_t)n;
	}
	return changed;
}

void options_print_help(const char *prog)
{
	printf("usage: %s [options]\n\n"
	       "Builds tiny kernels and initramfs images on demand and serves them over HTTP.\n"
	       "Every option can also be set in the configuration file as 'name = value'.\n\n",
	       prog);
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct option_def *def = &option_table[i];
		char flag[64];

		if (def->short_flag)
			snprintf(flag, sizeof(flag), "-%c, --%s%s", def->short_flag, def->name,
				 def->type == OPT_ACTION ? "" : " V");
		else
			snprintf(flag, sizeof(flag), "    --%s%s", def->name,
				 def->type == OPT_ACTION ? "" : " V");
		printf("  %-32s %s", flag, def->help);
		if (def->default_value)
			printf(" [%s]", def->default_value);
		if (def->flags & OPT_RESTART)
			printf(" (restart to change)");
		putchar('\n');
	}
	printf("\nexit codes: 0 ok, 1 bad usage or configuration, 2 cannot open a directory,\n"
	       "            3 cannot listen, 4 HTTP server failed to start,\n"
	       "            5 the PXE service (dnsmasq) failed to start\n");
}
