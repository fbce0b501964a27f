/* pxe_orphans.c - stop a dnsmasq that an earlier tinybootd on this state directory left running. */
#include "boot/pxe_orphans.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"

/* dnsmasq drops to its own user, and a credential change clears the parent-death signal, so a
 * tinybootd killed with SIGKILL leaves its dnsmasq behind, bound to ports 67/69/4011 with
 * SO_REUSEPORT: a new one would start beside it and both would answer. */

/* The process runs dnsmasq with conf_arg among its arguments. */
static bool pxe_orphans_matches(pid_t pid, const char *conf_arg)
{
	char path[64], *cmdline = NULL, *base;
	size_t len = 0;
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fsutil_read_fd(fd, 4096, 1 << 20, &cmdline, &len) < 0 || len == 0) {
		close(fd);
		free(cmdline);
		return false;
	}
	close(fd);
	base = strrchr(cmdline, '/');
	base = base ? base + 1 : cmdline;
	if (strcmp(base, "dnsmasq") == 0) {
		for (size_t off = strlen(cmdline) + 1; off < len; off += strlen(cmdline + off) + 1)
			if (strcmp(cmdline + off, conf_arg) == 0) {
				found = true;
				break;
			}
	}
	free(cmdline);
	return found;
}

/* Gone, or a zombie waiting for a parent that is not us. */
static bool pxe_orphans_gone(pid_t pid)
{
	char path[64], stat[512], *paren;
	int fd;
	ssize_t n;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return true;
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static void pxe_orphans_kill(pid_t pid)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };

	kill(pid, SIGTERM);
	for (int i = 0; i < 60 && !pxe_orphans_gone(pid); i++)
		nanosleep(&nap, NULL);
	if (!pxe_orphans_gone(pid)) {
		kill(pid, SIGKILL);
		for (int i = 0; i < 20 && !pxe_orphans_gone(pid); i++)
			nanosleep(&nap, NULL);
	}
}

int pxe_orphans_stop(const char *conf_arg, pid_t own)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	int stopped = 0;

	if (!proc) {
		log_warn("PXE: looking for a dnsmasq left running: open /proc");
		return 0;
	}
	while ((e = readdir(proc)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 1 || pid == own || pid == getpid())
			continue;
		if (!pxe_orphans_matches((pid_t)pid, conf_arg))
			continue;
		pxe_orphans_kill((pid_t)pid);
		log_warnx("PXE: stopped dnsmasq %ld, left running by an earlier tinybootd on this "
			  "state directory%s", pid,
			  pxe_orphans_gone((pid_t)pid) ? "" : " (it is still there)");
		stopped++;
	}
	closedir(proc);
	return stopped;
}
