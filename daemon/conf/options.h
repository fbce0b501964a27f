/* options.h - the one option table behind command-line flags and tinybootd.conf. */
#ifndef TINYBOOT_OPTIONS_H
#define TINYBOOT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

struct options {
	char *config_path;
	char *listen;
	char *state_dir;
	char *payload_dir; /* NULL: STATE/payloads */
	char *recipe_dir;
	char *kconfig_dir;
	char *rootfs_dir;
	char *www_dir;
	char *sources_file;
	char *machines_file;
	unsigned threads; /* 0: one per CPU */
	unsigned connection_timeout;
	unsigned header_timeout; /* whole request head, however busy the client keeps the line */
	unsigned body_timeout;	 /* whole request body */
	unsigned max_connections;
	unsigned max_connections_per_ip;
	unsigned connection_memory;
	unsigned drain_timeout;
	unsigned max_kernel_builds;
	unsigned build_jobs; /* 0: one per CPU */
	unsigned retry_after;
	unsigned max_waiting; /* ?wait=1 requests held open at once */
	unsigned report_timeout;
	unsigned boots_log_max_size; /* bytes */
	unsigned boots_log_keep;
	uint64_t cache_max_size; /* bytes of artifacts, kernels, busybox; 0: unlimited */
	unsigned keep_builds;    /* artifacts kept per variant; 0: unlimited */
	unsigned max_queued_builds;     /* builds queued or running at once */
	unsigned max_variant_fragments; /* extra fragments in one variant name */
	char *api_tokens;               /* NULL: no tokens, changes from loopback only */
	char *artifact_base_url; /* NULL: artifacts come from this server */
	enum log_level log_level;
	/* PXE service (conf/pxeopts.h reads these) */
	char *pxe;                /* off, proxy or dhcp */
	char *pxe_interface;
	char *pxe_server_address; /* NULL: the interface's first IPv4 address */
	char *pxe_range;
	char *pxe_lease_time;
	char *pxe_router;
	char *pxe_dns;
	char *pxe_dnsmasq;        /* NULL: dnsmasq on PATH, else /usr/sbin/dnsmasq */
	char *pxe_boot_programs;
	/* command-line actions, never read from the file */
	bool check_only;
	bool show_help;
	bool show_version;
};

void options_init(struct options *o);
void options_free(struct options *o);
/* Parse argv (argv[0] skipped). Returns 0 or -EINVAL with err filled. */
int options_parse_argv(struct options *o, int argc, char *const argv[], char *err, size_t errlen);
/* Apply "name = value" lines (read by lib/conffile); errors carry file:line. */
int options_load_file(struct options *o, const char *path, char *err, size_t errlen);
/* The full sequence: defaults, config file named on the command line, then flags again so they win. */
int options_load(struct options *o, int argc, char *const argv[], char *err, size_t errlen);
void options_print_help(const char *prog);
/* The options only a restart can change whose values differ between running and loaded: their
 * count, and their names ("state, threads") in names (cut to len). */
unsigned options_restart_changes(const struct options *running, const struct options *loaded,
				 char *names, size_t len);

#endif
