/* cli_boot.c - `tinyboot boot`: build, fetch over HTTP, run QEMU, wait for the guest's report. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_boot.h"
#include "cli/cli_build.h"
#include "cli/cli_http.h"
#include "cli/cli_machine.h"

extern char **environ;

static double cli_boot_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The guest reaches the host's loopback as 10.0.2.2 under QEMU user networking. */
static int cli_boot_guest_server(const char *server, char *out, size_t len)
{
	const char *colon = strrchr(server, ':');
	char *end;
	long port;

	if (!colon || strncmp(server, "http://", 7) != 0 || colon < server + 7)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if ((*end && *end != '/') || port <= 0 || port > 65535)
		return -EINVAL;
	snprintf(out, len, "http://10.0.2.2:%ld", port);
	return 0;
}

static const char *cli_boot_nic_device(const char *nic)
{
	if (!nic || strcmp(nic, "virtio") == 0)
		return "virtio-net-pci";
	if (strcmp(nic, "e1000") == 0)
		/* QEMU emulates autonegotiation: carrier then comes 0.1-2 s after "link up"; with it
		 * off the link is up at once (see scripts/build-notes.md) */
		return "e1000,autonegotiation=off";
	return NULL;
}

/* The boot TOKEN names, or (token empty: an iPXE boot the daemon starts) the last boot of MAC. */
static json_t *cli_boot_find(const struct cli *cli, const char *mac, const char *token, struct cli_http_buf *buf)
{
	char path[128];
	json_t *all, *m, *found = NULL;
	const char *key;
	long status;

	if (token[0]) {
		snprintf(path, sizeof(path), "/api/v1/boots/%s", token);
		return cli_http_api(cli->server, path, NULL, buf) == 200 ? json_loads(buf->data, 0, NULL) : NULL;
	}
	all = cli_machines_all(cli, buf, &status);
	if (!all)
		return NULL;
	/* the newest: machines.conf may have named this MAC differently before (a machine's boots
	 * are listed under the name it had then) */
	json_object_foreach(all, key, m) {
		const char *mmac = json_string_value(json_object_get(m, "mac"));

		if (mmac && strcmp(mmac, mac) == 0 && json_object_get(m, "boot") &&
		    (!found || json_number_value(json_object_get(m, "created")) >
				       json_number_value(json_object_get(found, "created"))))
			found = m;
	}
	json_incref(found);
	json_decref(all);
	return found;
}

static void cli_boot_print_report(json_t *boot)
{
	json_t *report = json_object_get(boot, "report"), *p;
	size_t i;

	fprintf(stderr, "\ntinyboot: boot %s of %s: %s\n", json_string_value(json_object_get(boot, "boot")),
		json_string_value(json_object_get(boot, "machine")),
		json_string_value(json_object_get(boot, "result")));
	if (!report)
		return;
	fprintf(stderr, "tinyboot: kernel %s, uptime at report %.2f s\n",
		json_string_value(json_object_get(report, "kernel")),
		json_number_value(json_object_get(json_object_get(report, "uptime"), "report")));
	json_array_foreach(json_object_get(report, "payloads"), i, p)
		fprintf(stderr, "tinyboot:   %-24s %10lld bytes  %s\n", json_string_value(json_object_get(p, "name")),
			(long long)json_integer_value(json_object_get(p, "size")),
			json_is_true(json_object_get(p, "ok")) ? "sha256 ok" : "FAILED");
}

int cli_boot(const struct cli *cli, const char *variant)
{
	const char *mac = cli->mac ? cli->mac : "52:54:00:12:34:56";
	const char *device = cli_boot_nic_device(cli->nic);
	char guest[128], artifact[128], dir[] = "/tmp/tinyboot-boot.XXXXXX";
	/* empty until downloaded: the clean-up unlinks them whatever happened */
	char kernel[256] = "", initrd[256] = "";
	char token[64] = "", netdev[512], nicdev[256], cmdline[2048] = "", arch[16] = "x86_64";
	char qemu[64], ipxe_machine_mac[32];
	struct cli_http_buf buf = { 0 };
	double timeout = cli->timeout ? atof(cli->timeout) : 120, start, reported_at = 0, started_wall;
	json_t *boot = NULL;
	pid_t pid;
	int rc = 3, status;

	if (!device) {
		fprintf(stderr, "tinyboot: --nic is e1000 or virtio\n");
		return 2;
	}
	if (cli_boot_guest_server(cli->server, guest, sizeof(guest))) {
		fprintf(stderr, "tinyboot: boot needs --server http://127.0.0.1:PORT\n");
		return 2;
	}
	if (cli_build_follow(cli, variant, artifact, sizeof(artifact)))
		return 1;
	if (!mkdtemp(dir)) {
		perror("tinyboot: mkdtemp");
		return 1;
	}
	snprintf(ipxe_machine_mac, sizeof(ipxe_machine_mac), "%s", mac);
	if (!cli->ipxe) {
		json_t *req = json_pack("{s:s, s:s, s:s, s:b}", "mac", mac, "server", guest, "variant", variant,
					"poweroff", !cli->shell);
		char *body = json_dumps(req, JSON_COMPACT);
		long st = cli_http_api(cli->server, "/api/v1/boots", body, &buf);
		json_t *reply;

		free(body);
		json_decref(req);
		if (st != 201) {
			fprintf(stderr, "tinyboot: %s", buf.data ? buf.data : "no answer\n");
			goto out;
		}
		reply = json_loads(buf.data, 0, NULL);
		snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(reply, "boot")));
		snprintf(cmdline, sizeof(cmdline), "%s", json_string_value(json_object_get(reply, "cmdline")));
		snprintf(arch, sizeof(arch), "%s", json_string_value(json_object_get(reply, "arch")));
		snprintf(ipxe_machine_mac, sizeof(ipxe_machine_mac), "%s", json_string_value(json_object_get(reply, "mac")));
		snprintf(kernel, sizeof(kernel), "%s/bzImage", dir);
		rc = cli_http_download(cli->server, json_string_value(json_object_get(reply, "kernel")), kernel);
		snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
		if (!rc)
			rc = cli_http_download(cli->server, json_string_value(json_object_get(reply, "initrd")), initrd);
		json_decref(reply);
		if (rc) {
			rc = 1;
			goto out;
		}
		rc = 3;
	}
	if (cli->arch)
		snprintf(arch, sizeof(arch), "%s", cli->arch);
	snprintf(qemu, sizeof(qemu), "qemu-system-%s", strcmp(arch, "i386") == 0 ? "i386" : "x86_64");
	if (cli->ipxe) {
		snprintf(netdev, sizeof(netdev), "user,id=n0,bootfile=%s/boot.ipxe", guest);
		snprintf(nicdev, sizeof(nicdev), "%s,netdev=n0,mac=%s", device, mac);
	} else {
		snprintf(netdev, sizeof(netdev), "user,id=n0");
		/* no option ROM: with -kernel it would only cost time */
		snprintf(nicdev, sizeof(nicdev), "%s,netdev=n0,mac=%s,romfile=", device, mac);
	}
	char *qargv[32];
	int n = 0;

	qargv[n++] = qemu;
	qargv[n++] = "-nodefaults";
	qargv[n++] = "-display";
	qargv[n++] = "none";
	qargv[n++] = "-serial";
	qargv[n++] = "stdio";
	qargv[n++] = "-no-reboot";
	qargv[n++] = "-m";
	qargv[n++] = "128";
	qargv[n++] = "-netdev";
	qargv[n++] = netdev;
	qargv[n++] = "-device";
	qargv[n++] = nicdev;
	if (cli->ipxe) {
		qargv[n++] = "-boot";
		qargv[n++] = "n";
	} else {
		qargv[n++] = "-kernel";
		qargv[n++] = kernel;
		qargv[n++] = "-initrd";
		qargv[n++] = initrd;
		qargv[n++] = "-append";
		qargv[n++] = cmdline;
	}
	qargv[n] = NULL;
	fflush(stdout);
	start = cli_boot_now();
	started_wall = (double)time(NULL);
	if (posix_spawnp(&pid, qemu, NULL, NULL, qargv, environ) != 0) {
		fprintf(stderr, "tinyboot: cannot start %s: %s\n", qemu, strerror(errno));
		rc = 1;
		goto out;
	}
	for (;;) {
		pid_t done = waitpid(pid, &status, WNOHANG);
		double now = cli_boot_now();

		if (!boot || !json_is_object(json_object_get(boot, "report"))) {
			json_decref(boot);
			boot = cli_boot_find(cli, ipxe_machine_mac, token, &buf);
			/* an iPXE boot shows up once the script was served; only one from this run counts */
			if (boot && cli->ipxe && !token[0]) {
				if (json_number_value(json_object_get(boot, "created")) >= started_wall - 1) {
					snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(boot, "boot")));
				} else {
					json_decref(boot);
					boot = NULL;
				}
			}
			if (boot && json_is_object(json_object_get(boot, "report")) && !reported_at)
				reported_at = now;
		}
		if (done == pid)
			break;
		/* after the report, QEMU gets a moment to exit by itself (reboot -f) */
		if ((reported_at && !cli->shell && now - reported_at > 5) || now - start > timeout) {
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(200 * 1000);
	}
	if (boot && json_is_object(json_object_get(boot, "report"))) {
		cli_boot_print_report(boot);
		rc = strcmp(json_string_value(json_object_get(boot, "result")), "ok") == 0 ? 0 : 1;
	} else {
		fprintf(stderr, "\ntinyboot: no report from the guest within %.0f s\n", timeout);
		rc = 3;
	}
out:
	json_decref(boot);
	cli_http_buf_free(&buf);
	if (kernel[0])
		unlink(kernel);
	if (initrd[0])
		unlink(initrd);
	rmdir(dir);
	return rc;
}
