/* pxe_setup.c - resolve, check, render and apply the PXE service's configuration. */
#include "boot/pxe_setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/pxe_config.h"
#include "boot/pxe_files.h"
#include "boot/pxe_orphans.h"
#include "boot/pxe_service.h"
#include "conf/pxeopts.h"
#include "lib/caps.h"
#include "lib/fsutil.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/netif.h"
#include "lib/spawn.h"

/* The user dnsmasq drops to when tinybootd runs as root: the system user Debian's dnsmasq-base
 * creates, else dnsmasq's compiled-in default (nobody, shared with other daemons). */
static const char *const pxe_setup_users[] = { "dnsmasq", "nobody" };
#define PXE_SETUP_PATH_MAX 4096

struct pxe_setup {
	struct pxeopts opts;
	enum pxe_mode mode;
	struct netif_ipv4 net;
	struct in_addr server;
	unsigned port;
	char note[256];               /* why the boot URLs may not reach tinybootd ("" if they do) */
	char dnsmasq[PXE_SETUP_PATH_MAX];
	const char *user;             /* NULL: dnsmasq keeps our uid */
	uid_t uid;                    /* owner of the TFTP files; -1: ours */
	gid_t gid;
};

/* Is HTTP, bound to listen, reachable at the server address? Fills s->port; s->note says why
 * not. */
static int pxe_setup_listen(const char *listen, struct pxe_setup *s, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char server[NETIF_ADDR_MAX], host[INET6_ADDRSTRLEN] = "";
	socklen_t len;
	bool ok = false;

	if (listen_parse(listen, &ss, &len)) {
		snprintf(err, errlen, "listen: '%.100s' is not ADDR:PORT", listen);
		return -EINVAL;
	}
	netif_ntoa(s->server, server);
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		s->port = ntohs(in->sin_port);
		ok = in->sin_addr.s_addr == INADDR_ANY || in->sin_addr.s_addr == s->server.s_addr;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

		s->port = ntohs(in6->sin6_port);
		/* [::] takes IPv4 too, unless the host set bindv6only */
		ok = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ||
		     (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		      memcmp(&in6->sin6_addr.s6_addr[12], &s->server.s_addr, 4) == 0);
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
	}
	if (!ok)
		snprintf(s->note, sizeof(s->note), "tinybootd listens on %s only, so PXE clients cannot "
			 "reach %s:%u: set listen = 0.0.0.0:%u (or %s:%u)", host, server, s->port,
			 s->port, server, s->port);
	return 0;
}

/* dnsmasq: pxe-dnsmasq as given when it names a path, else looked up in PATH, then in sbin. */
static int pxe_setup_dnsmasq(const struct options *o, struct pxe_setup *s, char *err, size_t errlen)
{
	const char *name = o->pxe_dnsmasq ? o->pxe_dnsmasq : "dnsmasq";
	const char *path = getenv("PATH");
	char dirs[PXE_SETUP_PATH_MAX], *dir, *save = NULL;

	if (strchr(name, '/')) {
		if (access(name, X_OK) == 0 && snprintf(s->dnsmasq, sizeof(s->dnsmasq), "%s", name) <
		    (int)sizeof(s->dnsmasq))
			return 0;
		snprintf(err, errlen, "pxe-dnsmasq: %.200s: %s: install dnsmasq (apt-get install "
			 "dnsmasq-base) or fix the path", name, strerror(errno));
		return -ENOENT;
	}
	snprintf(dirs, sizeof(dirs), "%s:/usr/local/sbin:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;

		if (snprintf(s->dnsmasq, sizeof(s->dnsmasq), "%s/%s", dir, name) >= (int)sizeof(s->dnsmasq))
			continue;
		if (stat(s->dnsmasq, &st) == 0 && S_ISREG(st.st_mode) && access(s->dnsmasq, X_OK) == 0)
			return 0;
	}
	s->dnsmasq[0] = '\0';
	snprintf(err, errlen, "%.100s is not installed (looked in PATH and /usr/sbin): pxe = %s runs "
		 "dnsmasq; install it (apt-get install dnsmasq-base) or set pxe-dnsmasq = PATH", name,
		 pxeopts_mode_name(s->mode));
	return -ENOENT;
}

/* Binding 67/69, SO_BINDTODEVICE and ARP entries for clients without an address (SIOCSARP):
 * the capabilities dnsmasq checks for at start. */
static int pxe_setup_privileges(struct pxe_setup *s, char *err, size_t errlen)
{
	static const int caps[] = { CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_NET_ADMIN };
	char missing[128];

	if (caps_child_check(caps, sizeof(caps) / sizeof(caps[0]), missing, sizeof(missing))) {
		snprintf(err, errlen, "pxe = %s: dnsmasq would lack %s: run tinybootd as root, or under "
			 "systemd with the drop-in systemd/tinybootd-pxe.conf (AmbientCapabilities=)",
			 pxeopts_mode_name(s->mode), missing);
		return -EPERM;
	}
	s->uid = (uid_t)-1;
	s->gid = (gid_t)-1;
	s->user = NULL;
	if (geteuid() != 0)
		return 0; /* dnsmasq keeps our uid: the TFTP files we write are its own */
	/* dnsmasq started as root drops to a user; tftp-secure serves only that user's files */
	for (size_t i = 0; i < sizeof(pxe_setup_users) / sizeof(pxe_setup_users[0]); i++) {
		struct passwd *pw = getpwnam(pxe_setup_users[i]);

		if (pw && pw->pw_uid != 0) {
			s->user = pxe_setup_users[i];
			s->uid = pw->pw_uid;
			s->gid = pw->pw_gid;
			return 0;
		}
	}
	snprintf(err, errlen, "neither user dnsmasq nor nobody exists: dnsmasq drops to one of them "
		 "when started as root");
	return -EINVAL;
}

/* dnsmasq started as root opens TFTP files, and reads its reservations on SIGHUP, as another
 * user: every directory down to them must let others search it (the state directory under a
 * private /tmp dir would not). what: "serves TFTP", for the message. */
static int pxe_setup_reach(const char *target, const char *user, const char *what, char *err,
			   size_t errlen)
{
	char path[PXE_SETUP_PATH_MAX], *slash;
	struct stat st;

	if (snprintf(path, sizeof(path), "%s", target) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (slash = path; slash; slash = strchr(slash + 1, '/')) {
		char keep = slash[1];

		slash[1] = '\0';
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & S_IXOTH)) {
			snprintf(err, errlen, "dnsmasq %s as user %s, who cannot enter %s (mode "
				 "%04o): make it searchable (chmod o+x) or move the state directory",
				 what, user, path, (unsigned)(st.st_mode & 07777));
			return -EACCES;
		}
		slash[1] = keep;
	}
	return 0;
}

/* What dnsmasq's own user must reach: the TFTP root, and in dhcp mode its reservations (read
 * again on SIGHUP, when it runs as that user). Nothing to check when it stays root. */
static int pxe_setup_user_access(const struct pxe_setup *s, const struct pxe_paths *paths,
				 char *err, size_t errlen)
{
	int rc = 0;

	if (s->user)
		rc = pxe_setup_reach(paths->tftp, s->user, "serves TFTP", err, errlen);
	if (!rc && s->user && s->mode == PXE_MODE_DHCP)
		rc = pxe_setup_reach(paths->hosts, s->user, "reads its reservations", err, errlen);
	return rc;
}

/* The settings, the interface's address and network, the server address, the HTTP port. */
static int pxe_setup_resolve(const struct options *o, const char *listen, enum pxe_mode mode,
			     struct pxe_setup *s, char *err, size_t errlen)
{
	char addr[NETIF_ADDR_MAX];
	int rc;

	memset(s, 0, sizeof(*s));
	rc = pxeopts_parse(o, &s->opts, err, errlen);
	if (rc)
		return rc;
	s->mode = mode;
	if (!s->opts.ifname[0]) {
		snprintf(err, errlen, "pxe-interface is not set: set it to the interface on the lab "
			 "network (e.g. pxe-interface = eth1)");
		return -ENOENT;
	}
	if (!pxeopts_path_valid(o->pxe_boot_programs ? o->pxe_boot_programs : "")) {
		snprintf(err, errlen, "pxe-boot-programs: bad path");
		return -EINVAL;
	}
	rc = netif_ipv4(s->opts.ifname, &s->net);
	if (rc == -ENODEV) {
		snprintf(err, errlen, "pxe-interface %s: no such interface (see `ip -br link`): set "
			 "pxe-interface to the interface on the lab network", s->opts.ifname);
		return rc;
	}
	if (rc == -EADDRNOTAVAIL) {
		snprintf(err, errlen, "pxe-interface %s has no IPv4 address: give it one (dnsmasq "
			 "answers DHCP and TFTP from it), e.g. ip addr add 192.0.2.1/24 dev %s",
			 s->opts.ifname, s->opts.ifname);
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "pxe-interface %s: %s", s->opts.ifname, strerror(-rc));
		return rc;
	}
	s->server = s->opts.has_server ? s->opts.server : s->net.addr;
	if (s->opts.has_server && !netif_has_addr(s->opts.ifname, s->server))
		log_debug("pxe-server-address %s is not an address of %s: boot URLs point there",
			  netif_ntoa(s->server, addr), s->opts.ifname);
	return pxe_setup_listen(listen, s, err, errlen);
}

static void pxe_setup_note(void *ctx, const char *note)
{
	(void)ctx;
	log_warnx("PXE: no DHCP reservation for %s", note);
}

/* hosts: the reservations' file (own, dhcp mode), NULL: dhcp-host= lines in the text. */
static struct pxe_config pxe_setup_config(const struct pxe_setup *s, const struct machines *m,
					  const char *tftp, const char *leases, const char *hosts,
					  bool own)
{
	struct pxe_config c = {
		.opts = &s->opts,
		.mode = s->mode,
		.net = s->net,
		.server = s->server,
		.http_port = s->port,
		.tftp_root = tftp,
		.own = own,
		.lease_file = leases,
		.user = s->user,
		.log_dhcp = own && log_get_level() >= LOG_LEVEL_DEBUG,
		.machines = m,
		.hosts_file = hosts,
		.listen_note = s->note[0] ? s->note : NULL,
	};

	return c;
}

static int pxe_setup_render(const struct pxe_setup *s, const struct machines *m, const char *tftp,
			    const char *leases, const char *hosts, bool own, bool quiet, char **text,
			    char *err, size_t errlen)
{
	struct pxe_config c = pxe_setup_config(s, m, tftp, leases, hosts, own);

	return pxe_config_render(&c, quiet ? NULL : pxe_setup_note, NULL, text, err, errlen);
}

/* A running service must be reachable: the note is an error then. */
static int pxe_setup_reachable(const struct pxe_setup *s, char *err, size_t errlen)
{
	if (!s->note[0])
		return 0;
	snprintf(err, errlen, "%s", s->note);
	return -EINVAL;
}

/* Everything pxe = proxy|dhcp needs before dnsmasq can run; no disk writes. */
static int pxe_setup_prepare(const struct options *o, const char *listen, struct pxe_setup *s,
			     char *err, size_t errlen)
{
	struct pxeopts opts;
	int rc;

	rc = pxeopts_parse(o, &opts, err, errlen);
	if (rc)
		return rc;
	rc = pxe_setup_resolve(o, listen, opts.mode, s, err, errlen);
	if (!rc)
		rc = pxe_setup_reachable(s, err, errlen);
	if (!rc)
		rc = pxe_setup_dnsmasq(o, s, err, errlen);
	if (!rc)
		rc = pxe_setup_privileges(s, err, errlen);
	return rc;
}

static void pxe_setup_quiet_line(void *ctx, const char *line)
{
	char *last = ctx;

	if (line[0])
		snprintf(last, 512, "%s", line);
}

int pxe_setup_check(const struct options *o, const struct machines *m, const char *listen,
		    const struct pxe_paths *paths, char *err, size_t errlen)
{
	char last[512] = "", missing[128], *text = NULL, conf_arg[PXE_SETUP_PATH_MAX + 16];
	char *argv[] = { NULL, "--test", conf_arg, NULL };
	struct pxe_setup s;
	struct spawn_opts so = { .log_fd = -1, .on_line = pxe_setup_quiet_line, .ctx = last };
	int rc;

	if (o->pxe == NULL || strcmp(o->pxe, "off") == 0) {
		struct pxeopts opts;

		return pxeopts_parse(o, &opts, err, errlen);
	}
	rc = pxe_setup_prepare(o, listen, &s, err, errlen);
	if (!rc)
		rc = pxe_setup_user_access(&s, paths, err, errlen);
	if (!rc)
		rc = pxe_files_check(o->pxe_boot_programs ? o->pxe_boot_programs : "/usr/lib/ipxe",
				     missing, sizeof(missing), err, errlen);
	if (rc)
		return rc;
	if (s.port == 0)
		s.port = 1; /* listen on port 0: the port is known at start only */
	/* the reservations as dhcp-host= lines: dnsmasq --test checks them too (it would not read
	 * a dhcp-hostsfile) */
	rc = pxe_setup_render(&s, m, paths->tftp, paths->leases, NULL, true, true, &text, err, errlen);
	if (rc)
		return rc;
	/* dnsmasq reads it from stdin: -n writes nothing */
	snprintf(conf_arg, sizeof(conf_arg), "--conf-file=-");
	argv[0] = s.dnsmasq;
	so.stdin_text = text;
	rc = spawn_run(argv, &so);
	free(text);
	if (rc != 0) {
		snprintf(err, errlen, "%s --test refused the configuration (%s): %s", s.dnsmasq,
			 rc < 0 ? strerror(-rc) : "exit status", last);
		return -EIO;
	}
	return 0;
}

/* Copy the boot programs; the missing ones are worth a warning when PXE is on. */
static int pxe_setup_files(const struct options *o, const struct pxe_paths *paths, uid_t uid,
			   gid_t gid, bool quiet, char *err, size_t errlen)
{
	const char *from = o->pxe_boot_programs ? o->pxe_boot_programs : "/usr/lib/ipxe";
	char missing[128];
	int rc;

	rc = pxe_files_install(from, paths->tftp, uid, gid, missing, sizeof(missing), err, errlen);
	if (!rc && missing[0] && !quiet)
		log_warnx("PXE: %s not found in %s: clients that need it will not boot (apt-get install "
			  "ipxe)", missing, from);
	return rc;
}

/* dhcp mode: the reservations' text for paths->hosts (a note in the log for each machine left
 * out), and the configuration shown with them; NULL both in proxy mode. */
static int pxe_setup_hosts(const struct pxe_setup *s, const struct machines *m,
			   const struct pxe_paths *paths, const char *text, char **hosts,
			   char **shown, size_t *count, char *err, size_t errlen)
{
	struct pxe_config c = pxe_setup_config(s, m, paths->tftp, paths->leases, paths->hosts, true);
	int rc;

	*hosts = *shown = NULL;
	*count = 0;
	if (s->mode != PXE_MODE_DHCP)
		return 0;
	rc = pxe_config_hosts(&c, pxe_setup_note, NULL, hosts, count, err, errlen);
	if (!rc && pxe_config_shown(text, paths->hosts, *hosts, shown)) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	return rc;
}

/* The reservations (hosts may be NULL), then the configuration, each replaced atomically. */
static int pxe_setup_write(const struct pxe_paths *paths, const char *text, const char *hosts,
			   char *err, size_t errlen)
{
	char dir[PXE_SETUP_PATH_MAX];
	const char *path = paths->conf;
	int rc;

	snprintf(dir, sizeof(dir), "%s", paths->conf);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	rc = fsutil_mkdirs(dir, 0755);
	/* mode 0644: dnsmasq reads the reservations again on SIGHUP, as its own user by then */
	if (!rc && hosts) {
		path = paths->hosts;
		rc = fsutil_write_atomic(paths->hosts, hosts, strlen(hosts));
	}
	if (!rc) {
		path = paths->conf;
		rc = fsutil_write_atomic(paths->conf, text, strlen(text));
	}
	if (rc)
		snprintf(err, errlen, "write %s: %s", path, strerror(-rc));
	return rc;
}

int pxe_setup_apply(struct pxe_service *svc, const struct options *o, const struct machines *m,
		    const char *listen, const struct pxe_paths *paths, bool wait, char *err,
		    size_t errlen)
{
	char *text = NULL, *hosts = NULL, *shown = NULL, conf_arg[PXE_SETUP_PATH_MAX + 16];
	char *argv[] = { NULL, "--keep-in-foreground", "--log-facility=-", conf_arg, NULL };
	char addr[NETIF_ADDR_MAX], own[NETIF_ADDR_MAX];
	struct pxe_setup s;
	size_t nhosts = 0;
	int rc;

	if (o->pxe == NULL || strcmp(o->pxe, "off") == 0) {
		char quiet_err[512];

		pxe_service_halt(svc);
		/* still served under /pxe/, for a dnsmasq of the admin's own */
		rc = pxe_setup_files(o, paths, (uid_t)-1, (gid_t)-1, true, quiet_err, sizeof(quiet_err));
		if (rc && rc != -ENOENT)
			log_warnx("PXE: %s", quiet_err);
		return 0;
	}
	rc = pxe_setup_prepare(o, listen, &s, err, errlen);
	if (!rc)
		rc = pxe_setup_user_access(&s, paths, err, errlen);
	if (!rc)
		rc = pxe_setup_render(&s, m, paths->tftp, paths->leases, paths->hosts, true, true, &text,
				      err, errlen);
	if (!rc)
		rc = pxe_setup_hosts(&s, m, paths, text, &hosts, &shown, &nhosts, err, errlen);
	if (!rc)
		rc = pxe_setup_files(o, paths, s.uid, s.gid, false, err, errlen);
	if (!rc)
		rc = pxe_setup_write(paths, text, hosts, err, errlen);
	if (rc)
		goto out;
	snprintf(conf_arg, sizeof(conf_arg), "--conf-file=%s", paths->conf);
	argv[0] = s.dnsmasq;
	pxe_orphans_stop(conf_arg, pxe_service_pid(svc));
	/* another server bound with SO_REUSEPORT and SO_BINDTODEVICE (a dnsmasq with
	 * bind-interfaces) does not stop ours from starting: both would answer */
	if (wait && netif_udp_port_bound(67) == 1)
		log_warnx("PXE: another process has UDP port 67 open on this host (see `ss -ulpn "
			  "'sport = :67'`): if it serves %s too, two DHCP servers answer there",
			  s.opts.ifname);
	log_info("PXE: %s mode on %s (%s/%u), boot URLs http://%s:%u/, TFTP root %s, %s%s%s",
		 pxeopts_mode_name(s.mode), s.opts.ifname, netif_ntoa(s.net.addr, own), s.net.prefix,
		 netif_ntoa(s.server, addr), s.port, paths->tftp, s.dnsmasq,
		 s.user ? " as user " : "", s.user ? s.user : "");
	/* the same configuration: a restart would cut every TFTP transfer in flight; dnsmasq
	 * reads changed reservations again on SIGHUP */
	if (pxe_service_runs(svc, argv, text)) {
		if (!pxe_service_show(svc, shown))
			goto out;
		if (pxe_service_signal(svc, SIGHUP) == 0) {
			log_info("PXE: %zu DHCP reservation%s loaded without restarting dnsmasq (SIGHUP)",
				 nhosts, nhosts == 1 ? "" : "s");
			goto out;
		}
	}
	pxe_service_show(svc, shown);
	rc = pxe_service_run(svc, argv, text, wait, err, errlen);
out:
	free(text);
	free(hosts);
	free(shown);
	return rc;
}

int pxe_setup_example(const struct options *o, const struct machines *m, const char *listen,
		      char **text, char *err, size_t errlen)
{
	struct pxe_setup s;
	int rc;

	*text = NULL;
	rc = pxe_setup_resolve(o, listen, o->pxe_range ? PXE_MODE_DHCP : PXE_MODE_PROXY, &s, err,
			       errlen);
	if (rc)
		return rc;
	return pxe_setup_render(&s, m, o->pxe_boot_programs ? o->pxe_boot_programs : "/usr/lib/ipxe",
				NULL, NULL, false, true, text, err, errlen);
}
