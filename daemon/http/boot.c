/* boot.c - a machine asks how to boot, downloads kernel and initrd, and reports back. */
#include "http/boot.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "boot/boots.h"
#include "boot/ipxe.h"
#include "boot/nextboot.h"
#include "boot/report.h"
#include "build/builder.h"
#include "conf/machines.h"
#include "conf/recipe.h"
#include "conf/variant.h"
#include "http/auth.h"
#include "http/boot_wait.h"
#include "http/next.h"
#include "http/reply.h"
#include "lib/listen.h"
#include "lib/log.h"
#include "lib/names.h"
#include "http/status.h"

#define HTTP_BOOT_SCRIPT_MAX 8192
#define HTTP_BOOT_CMDLINE_MAX 2048
/* what a script and a command line are first built with, to check them before a boot exists */
#define HTTP_BOOT_TOKEN_STANDIN "00000000000000000000000000000000"

/* The address this connection came in on, as HOST:PORT ("[v6]:PORT"): a wildcard listener's
 * own address says nothing a guest could use. An IPv4 client of an IPv6 socket gets IPv4. */
static int http_boot_local_address(struct request *r, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &sl) < 0)
		return -ENOTCONN;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 six = *(struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&six.sin6_addr)) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			memset(&ss, 0, sizeof(ss));
			sin->sin_family = AF_INET;
			sin->sin_port = six.sin6_port;
			memcpy(&sin->sin_addr, &six.sin6_addr.s6_addr[12], 4);
		}
	} else if (ss.ss_family != AF_INET) {
		return -EAFNOSUPPORT;
	}
	return listen_format(&ss, out, len);
}

/* The base URL guests use: the Host header iPXE sent, when it is a plain HOST[:PORT] (an IPv6
 * address in brackets); without one (HTTP/1.0), or with one that is not, the address the
 * request came in on. Nothing unchecked reaches a script. */
static int http_boot_server_url(struct request *r, char *out, size_t len)
{
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	char local[IPXE_HOST_MAX + 1];
	int rc;

	if (!host || !ipxe_host_valid(host)) {
		rc = http_boot_local_address(r, local, sizeof(local));
		if (rc)
			return rc;
		host = local;
	}
	return snprintf(out, len, "http://%s", host) < (int)len ? 0 : -ENAMETOOLONG;
}

/* A server a client names in POST /api/v1/boots: http://HOST[:PORT], as a Host header may be. */
static bool http_boot_server_valid(const char *url)
{
	return strncmp(url, "http://", 7) == 0 && ipxe_host_valid(url + 7);
}

/* Machines that fall to the default entry are still told apart: by their MAC. */
static void http_boot_name(const struct machine *m, const char *mac, char name[40])
{
	if (!m->is_default) {
		snprintf(name, 40, "%s", m->name);
		return;
	}
	snprintf(name, 40, "mac-%.2s%.2s%.2s%.2s%.2s%.2s", mac, mac + 3, mac + 6, mac + 9, mac + 12, mac + 15);
}

/* The full command line: the recipe's, then who this machine is and how to reach the daemon. */
static int http_boot_cmdline(const struct variant *v, const struct machine *m, const char *name,
			     const char *server, const char *token, bool poweroff, char *out, size_t len)
{
	int n;

	if (m->dhcp || !m->ip[0])
		n = snprintf(out, len, "%s tinyboot.server=%s tinyboot.id=%s tinyboot.boot=%s tinyboot.net=dhcp%s%s%s",
			     v->recipe->cmdline, server, name, token, m->args[0] ? " " : "", m->args,
			     poweroff ? " tinyboot.poweroff=1" : "");
	else
		n = snprintf(out, len, "%s tinyboot.server=%s tinyboot.id=%s tinyboot.boot=%s tinyboot.ip=%s%s%s%s%s%s",
			     v->recipe->cmdline, server, name, token, m->ip, m->gw[0] ? " tinyboot.gw=" : "",
			     m->gw, m->args[0] ? " " : "", m->args, poweroff ? " tinyboot.poweroff=1" : "");
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	/* every piece was checked on its own; check the whole once more before it goes anywhere
	 * (the server may be an IPv6 address in brackets, which only that word may hold) */
	return ipxe_cmdline_valid(out) ? 0 : -EINVAL;
}

static enum MHD_Result http_boot_script_text(struct request *r, const char *script)
{
	return http_send_text(r, MHD_HTTP_OK, "text/plain; charset=utf-8", script, strlen(script));
}

enum MHD_Result http_boot_generic_script(struct request *r)
{
	char server[300], script[HTTP_BOOT_SCRIPT_MAX];

	if (http_boot_server_url(r, server, sizeof(server)) || ipxe_boot_script(server, script, sizeof(script)))
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the boot script");
	return http_boot_script_text(r, script);
}

/* Find the machine and its variant; *status and err say why not. */
static const struct machine *http_boot_lookup(struct request *r, const char *mac_in, const char *uuid_in,
					      char mac[18], unsigned *status, char *err, size_t errlen)
{
	char uuid[37] = "";
	const struct machine *m;

	if (!mac_in || machines_normalize_mac(mac_in, mac)) {
		*status = MHD_HTTP_BAD_REQUEST;
		snprintf(err, errlen, "mac must be 12 hex digits (52:54:00:12:34:56)");
		return NULL;
	}
	if (uuid_in && *uuid_in && machines_normalize_uuid(uuid_in, uuid)) {
		*status = MHD_HTTP_BAD_REQUEST;
		snprintf(err, errlen, "uuid must be 8-4-4-4-12 hex digits");
		return NULL;
	}
	m = r->rt->machines ? machines_find(r->rt->machines, mac, uuid) : NULL;
	if (!m) {
		*status = MHD_HTTP_NOT_FOUND;
		snprintf(err, errlen, "unknown machine %s and no default entry", mac);
	}
	return m;
}

/* iPXE's ${platform} and ${buildarch} from the query: absent (a /boot.ipxe from before they were
 * asked) means firmware unknown, booted as under BIOS; a value off the lists is the caller's 400. */
static int http_boot_firmware(struct request *r, enum ipxe_firmware *firmware, const char **buildarch,
			      char *err, size_t errlen)
{
	const char *platform = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "platform");

	*buildarch = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "buildarch");
	if (ipxe_firmware_parse(platform, firmware)) {
		snprintf(err, errlen, "platform must be pcbios or efi (iPXE's ${platform})");
		return -EINVAL;
	}
	if (!ipxe_buildarch_valid(*buildarch)) {
		snprintf(err, errlen, "buildarch must be iPXE's ${buildarch}: i386, x86_64, arm32, arm64, riscv32, "
			 "riscv64 or loong64");
		return -EINVAL;
	}
	return 0;
}

/* The machine cannot boot on this firmware: its console says why, iPXE hands it back to the
 * firmware, and the boot shows as failed at once instead of pending until it times out. The
 * script goes out once the boot is on disk (or could not be). */
static enum MHD_Result http_boot_refuse(struct request *r, const struct machine *m, const char *mac,
					const char *variant, enum ipxe_firmware firmware, const char *why)
{
	char name[40], script[HTTP_BOOT_SCRIPT_MAX];
	struct boots_new n = { .machine = name, .mac = mac, .variant = variant, .artifact = "",
			       .firmware = ipxe_firmware_name(firmware), .unlisted = m->is_default };
	struct http_boot_wait *w;
	int rc;

	http_boot_name(m, mac, name);
	log_warnx("machine %s (%s): %s", name, ipxe_firmware_name(firmware), why);
	if (ipxe_exit_script(why, script, sizeof(script)))
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the script for %s", m->name);
	rc = http_boot_wait_start(r, &n, name, NULL, &w);
	if (!r->parked) {
		log_warnx("machine %s: boot not recorded: %s", name, strerror(-rc));
		return http_boot_script_text(r, script);
	}
	snprintf(w->fail, sizeof(w->fail), "%.*s", (int)sizeof(w->fail) - 1, why); /* cut as boots_fail would */
	w->script = strdup(script);
	return MHD_YES;
}

/* The machine's script for boot token: built, content-addressed URLs, from the site cache when
 * artifact-base-url names one; still building, the stable name here, which answers 503 +
 * Retry-After until it is built (iPXE waits on that by itself; a cache would keep the 503). */
static int http_boot_script_for(const struct variant *v, const struct machine *m,
				const struct build_info *info, const char *name, const char *server,
				const char *cache, const char *token, char *script, size_t len)
{
	char kernel[400], initrd[400], cmdline[HTTP_BOOT_CMDLINE_MAX];
	int rc;

	if (info->state == BUILD_DONE) {
		snprintf(kernel, sizeof(kernel), "/artifacts/%s/bzImage?boot=%s", info->artifact, token);
		snprintf(initrd, sizeof(initrd), "/artifacts/%s/initrd?boot=%s", info->artifact, token);
	} else {
		snprintf(kernel, sizeof(kernel), "/images/%s/bzImage?boot=%s", v->name, token);
		snprintf(initrd, sizeof(initrd), "/images/%s/initrd?boot=%s", v->name, token);
	}
	rc = http_boot_cmdline(v, m, name, server, token, false, cmdline, sizeof(cmdline));
	if (rc)
		return rc;
	struct ipxe_boot b = { .server_url = server, .kernel_url = kernel, .initrd_url = initrd,
			       .artifact_url = info->state == BUILD_DONE ? cache : NULL,
			       .cmdline = cmdline, .machine = name };
	return ipxe_machine_script(&b, script, len);
}

/* A machine set to boot locally: a script that hands it back to the firmware's next boot
 * device. No boot is recorded: no kernel is sent and no report will come. */
static enum MHD_Result http_boot_local(struct request *r, const char *name)
{
	char script[HTTP_BOOT_SCRIPT_MAX];

	if (ipxe_local_script(name, script, sizeof(script)))
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the script for %s", name);
	log_info("machine %s: boots from its local disk (next-boot override)", name);
	return http_boot_script_text(r, script);
}

/* The boot that took a one-time variant was not created: the variant waits for the next. */
static void http_boot_untake(struct request *r, const char *name, const struct nextboot_entry *e)
{
	int rc = nextboot_untake(r->tb->next, name, e);

	if (rc)
		log_warnx("machine %s: next-boot variant %s lost: %s", name, e->variant, strerror(-rc));
}

enum MHD_Result http_boot_machine_script(struct request *r)
{
	const char *mac_in = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "mac");
	const char *uuid_in = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "uuid");
	char mac[18], err[2048], server[300], script[HTTP_BOOT_SCRIPT_MAX];
	char name[40], chosen[VARIANT_NAME_MAX + 1];
	struct http_boot_wait *w;
	struct nextboot_entry next;
	enum ipxe_firmware firmware;
	const char *buildarch;
	struct variant *v = NULL;
	struct build_info info;
	const struct machine *m;
	unsigned status = 500;
	int rc;

	if (r->parked) /* the boot's record is on disk, or could not be put there */
		return http_boot_wait_answer(r);
	if (http_boot_firmware(r, &firmware, &buildarch, err, sizeof(err)))
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
	m = http_boot_lookup(r, mac_in, uuid_in, mac, &status, err, sizeof(err));
	if (!m && status == MHD_HTTP_NOT_FOUND) {
		/* iPXE shows this and moves on to the next boot device */
		ipxe_exit_script(err, script, sizeof(script));
		return http_boot_script_text(r, script);
	}
	if (!m)
		return http_send_error(r, status, "%s", err);
	http_boot_name(m, mac, name);
	/* a variant set for the next boot is taken here, in one step: of two boots at once only
	 * one gets it; it is given back below if this boot cannot be created after all */
	rc = nextboot_take(r->tb->next, name, &next);
	if (rc)
		return http_send_error(r, http_next_write_status(rc), "machine %s: its next-boot override cannot be "
				       "updated: %s", name, strerror(-rc));
	if (next.action == NEXTBOOT_LOCAL)
		return http_boot_local(r, name);
	/* UEFI iPXE hands the kernel to the firmware's LoadImage: only an EFI stub kernel starts */
	rc = variant_for_firmware(next.action == NEXTBOOT_VARIANT ? next.variant : m->variant,
				  next.action == NEXTBOOT_VARIANT ? NULL : m->efi_variant,
				  firmware == IPXE_FIRMWARE_UEFI, chosen, sizeof(chosen));
	if (rc)
		snprintf(err, sizeof(err), "variant %s+%s is too long", m->variant, VARIANT_EFI_FRAGMENT);
	else
		rc = variant_parse(&r->rt->opts, chosen, &v, err, sizeof(err));
	if (!rc && firmware == IPXE_FIRMWARE_UEFI &&
	    variant_efi_check(v->name, v->recipe->arch, buildarch, err, sizeof(err))) {
		enum MHD_Result ret = http_boot_refuse(r, m, mac, v->name, firmware, err);

		variant_free(v);
		return ret;
	}
	if (!rc)
		rc = http_auth_build(r, v->name, false, next.action == NEXTBOOT_VARIANT, &info, &status, err,
				     sizeof(err));
	if (rc) {
		variant_free(v);
		http_boot_untake(r, name, &next);
		return http_auth_send_error(r, status, "machine %s: %s", m->name, err);
	}
	free(info.log_tail);
	struct boots_new n = { .machine = name, .mac = mac, .variant = v->name,
			       .artifact = info.state == BUILD_DONE ? info.artifact : "",
			       .firmware = ipxe_firmware_name(firmware), .timeout_s = r->rt->opts.report_timeout,
			       .unlisted = m->is_default };
	/* the whole script is built once with a stand-in token before the boot exists: a script
	 * that cannot be built leaves no boot behind to time out */
	rc = http_boot_server_url(r, server, sizeof(server));
	if (!rc)
		rc = http_boot_script_for(v, m, &info, name, server, r->rt->opts.artifact_base_url,
					  HTTP_BOOT_TOKEN_STANDIN, script, sizeof(script));
	if (rc) {
		log_warnx("machine %s: cannot build its script: %s", name, strerror(-rc));
		variant_free(v);
		http_boot_untake(r, name, &next);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the script for %s", m->name);
	}
	/* answered once the boot is on disk: a script whose boot a power loss could take back
	 * would get its guest a 404 for the report */
	rc = http_boot_wait_start(r, &n, name, &next, &w);
	if (!r->parked) {
		variant_free(v);
		http_boot_untake(r, name, &next);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot record the boot of %s: %s",
				       m->name, strerror(-rc));
	}
	if (!rc && (http_boot_script_for(v, m, &info, name, server, r->rt->opts.artifact_base_url,
					 w->token, script, sizeof(script)) ||
		    !(w->script = strdup(script))))
		w->unprepared = "the daemon could not build its boot script";
	w->event = "script served";
	variant_free(v);
	return MHD_YES;
}

/* With a site cache, the paths on this server ("kernel", "initrd") stay as they were and
 * "kernel_url", "initrd_url" name the same files through the cache. */
static void http_boot_cache_urls(json_t *reply, const char *cache)
{
	static const char *const keys[][2] = { { "kernel", "kernel_url" }, { "initrd", "initrd_url" } };

	if (!cache)
		return;
	for (size_t i = 0; i < 2; i++) {
		const char *path = json_string_value(json_object_get(reply, keys[i][0]));
		char *url;

		if (path && asprintf(&url, "%s%s", cache, path) >= 0) {
			json_object_set_new(reply, keys[i][1], json_string(url));
			free(url);
		}
	}
}

enum MHD_Result http_boot_create(struct request *r)
{
	const char *mac_in = NULL, *server = NULL, *variant_in = NULL;
	char mac[18], err[2048], cmdline[HTTP_BOOT_CMDLINE_MAX], url[256], name[40];
	struct nextboot_entry next = { 0 };
	struct http_boot_wait *w;
	struct variant *v = NULL;
	struct build_info info;
	const struct machine *m;
	unsigned status = 500;
	int poweroff = 0, rc;
	json_error_t jerr;
	json_t *body, *reply;

	if (r->parked) /* the boot's record is on disk, or could not be put there */
		return http_boot_wait_answer(r);
	body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!body || json_unpack_ex(body, &jerr, 0, "{s:s, s:s, s?s, s?b}", "mac", &mac_in, "server",
				    &server, "variant", &variant_in, "poweroff", &poweroff)) {
		json_decref(body);
		return http_send_error(r, MHD_HTTP_BAD_REQUEST,
				       "expected {\"mac\": M, \"server\": \"http://10.0.2.2:PORT\", \"variant\": V, \"poweroff\": true}: %s",
				       jerr.text);
	}
	if (!http_boot_server_valid(server)) {
		json_decref(body);
		return http_send_error(r, MHD_HTTP_BAD_REQUEST,
				       "server must be http://HOST[:PORT], an IPv6 address in brackets");
	}
	m = http_boot_lookup(r, mac_in, NULL, mac, &status, err, sizeof(err));
	if (!m) {
		json_decref(body);
		return http_send_error(r, status, "%s", err);
	}
	http_boot_name(m, mac, name);
	/* a variant named here wins over the machine's override, which then stays for later */
	rc = variant_in ? 0 : nextboot_take(r->tb->next, name, &next);
	if (rc || next.action == NEXTBOOT_LOCAL) {
		json_decref(body);
		if (rc)
			return http_send_error(r, http_next_write_status(rc), "machine %s: its next-boot override "
					       "cannot be updated: %s", name, strerror(-rc));
		return http_send_error(r, MHD_HTTP_CONFLICT, "machine %s is set to boot from its local disk: "
				       "name a variant, or clear it (DELETE /api/v1/machines/%s/next)", name, name);
	}
	if (next.action == NEXTBOOT_VARIANT)
		variant_in = next.variant;
	rc = variant_parse(&r->rt->opts, variant_in ? variant_in : m->variant, &v, err, sizeof(err));
	if (!rc)
		rc = http_auth_build(r, v->name, false, false, &info, &status, err, sizeof(err));
	if (rc) {
		json_decref(body);
		variant_free(v);
		http_boot_untake(r, name, &next);
		return http_auth_send_error(r, status, "%s", err);
	}
	free(info.log_tail);
	if (info.state != BUILD_DONE) {
		json_decref(body);
		variant_free(v);
		http_boot_untake(r, name, &next);
		return http_send_error(r, info.state == BUILD_FAILED ? 500 : 503, "%s is %s; build it first",
				       info.variant, builder_state_name(info.state));
	}
	/* QEMU starts this kernel itself (-kernel): no iPXE said which firmware */
	struct boots_new n = { .machine = name, .mac = mac, .variant = v->name, .artifact = info.artifact,
			       .timeout_s = r->rt->opts.report_timeout, .unlisted = m->is_default };
	/* checked with a stand-in token first: a command line that cannot be built leaves no boot */
	rc = http_boot_cmdline(v, m, name, server, HTTP_BOOT_TOKEN_STANDIN, poweroff, cmdline, sizeof(cmdline));
	if (rc) {
		json_decref(body);
		variant_free(v);
		http_boot_untake(r, name, &next);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the command line of %s: %s",
				       name, strerror(-rc));
	}
	/* answered (201) once the boot is on disk */
	rc = http_boot_wait_start(r, &n, name, &next, &w);
	if (!r->parked) {
		json_decref(body);
		variant_free(v);
		http_boot_untake(r, name, &next);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot create the boot: %s", strerror(-rc));
	}
	if (!rc && http_boot_cmdline(v, m, name, server, w->token, poweroff, cmdline, sizeof(cmdline)))
		w->unprepared = "the daemon could not build its command line";
	if (!rc && !w->unprepared) {
		reply = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "boot", w->token, "machine", name, "mac", mac,
				  "variant", v->name, "arch", v->recipe->arch, "cmdline", cmdline);
		if (reply) {
			snprintf(url, sizeof(url), "/artifacts/%s/bzImage?boot=%s", info.artifact, w->token);
			json_object_set_new(reply, "kernel", json_string(url));
			snprintf(url, sizeof(url), "/artifacts/%s/initrd?boot=%s", info.artifact, w->token);
			json_object_set_new(reply, "initrd", json_string(url));
			http_boot_cache_urls(reply, r->rt->opts.artifact_base_url);
		}
		w->reply = reply;
		if (!reply)
			w->unprepared = "the daemon could not build its answer";
	}
	json_decref(body);
	variant_free(v);
	return MHD_YES;
}

enum MHD_Result http_boot_get(struct request *r, const char *token)
{
	json_t *j = boots_boot_json(r->tb->boots, token);

	if (!j)
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no such boot");
	return http_send_json(r, MHD_HTTP_OK, j);
}

/* Why a report was refused, as a status: the token is the proof that the sender is the guest
 * of that boot, so an unknown token is a 404 (never handed out, or no longer held in memory),
 * a real token under another machine's name a 403, and a second report for a boot a 409. */
static unsigned http_boot_report_status(int rc, const char **why)
{
	switch (rc) {
	case -ENOENT:
		*why = "no such boot (the token is unknown, or the boot is no longer held)";
		return MHD_HTTP_NOT_FOUND;
	case -EPERM:
		*why = "the boot token belongs to another machine";
		return MHD_HTTP_FORBIDDEN;
	case -EALREADY:
		*why = "the boot already has its report, or the daemon failed it";
		return MHD_HTTP_CONFLICT;
	case -ENOSPC:
	case -EDQUOT:
	case -EFBIG:
		*why = "report not stored: the state directory is full";
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	default:
		*why = "report not stored";
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	}
}

enum MHD_Result http_boot_report(struct request *r)
{
	struct report_info info;
	const char *why;
	char err[512];
	json_error_t jerr;
	json_t *report, *clean;
	int rc;

	report = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!report)
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "report is not JSON: %s", jerr.text);
	rc = report_validate(report, &clean, &info, err, sizeof(err));
	json_decref(report);
	if (rc)
		return http_send_error(r, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "%s", err);
	if (!r->parked) {
		/* Suspended before the committer can know of it; woken once the report's sync (one
		 * for all the reports written meanwhile) is done, the worker serving others
		 * meanwhile. A refusal comes back the same way, at once. */
		r->parked = true;
		MHD_suspend_connection(r->conn);
		rc = boots_report_async(r->tb->boots, info.token, info.machine, info.ok, clean,
					http_boot_wait_woken, r);
		json_decref(clean);
		if (rc)
			http_boot_wait_woken(r, rc);
		return MHD_YES;
	}
	rc = r->parked_rc;
	if (rc) {
		unsigned status = http_boot_report_status(rc, &why);

		log_info("report from %s refused: %u %s%s%s", info.machine, status, why,
			 status == MHD_HTTP_INSUFFICIENT_STORAGE ? ": " : "",
			 status == MHD_HTTP_INSUFFICIENT_STORAGE ? strerror(-rc) : "");
		json_decref(clean); /* info's strings are clean's */
		if (status == MHD_HTTP_INSUFFICIENT_STORAGE)
			return http_send_error(r, status, "%s: %s", why, strerror(-rc));
		return http_send_error(r, status, "%s", why);
	}
	log_info("report from %s: %s", info.machine, info.ok ? "ok" : "FAILED");
	json_decref(clean);
	return http_send_json(r, MHD_HTTP_CREATED, json_pack("{s:b, s:b}", "stored", 1, "ok", info.ok));
}

static void http_boot_note_download(struct request *r, const char *name)
{
	const char *token = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "boot");

	if (!token || !names_hex_lower(token, 32))
		return;
	if (strcmp(name, "bzImage") == 0)
		boots_event(r->tb->boots, token, "kernel sent");
	else if (strcmp(name, "initrd") == 0)
		boots_event(r->tb->boots, token, "initrd sent");
}

enum MHD_Result http_boot_counted(struct request *r, enum MHD_Result ret, const char *name)
{
	const union MHD_ConnectionInfo *info;

	if (ret != MHD_YES || r->head)
		return ret;
	info = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_HTTP_STATUS);
	if (info && (info->http_status == MHD_HTTP_OK || info->http_status == MHD_HTTP_PARTIAL_CONTENT))
		http_boot_note_download(r, name);
	return ret;
}
