/* test_pxe_service.c - boot/pxe_service.c with a fake dnsmasq (a shell script): the ready line,
 * restarts with growing backoff, no restart for the same configuration, a restart for a new one,
 * SIGHUP to the running child (deferred while it starts), SIGTERM then SIGKILL, its lines in the
 * log with the prefix, failures explained; and
 * boot/pxe_files.c: the TFTP root filled atomically with the known programs only. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/pxe_files.h"
#include "boot/pxe_service.h"
#include "lib/log.h"
#include "testlib.h"

static const struct pxe_service_timing fast = {
	.backoff_min_ms = 100,
	.backoff_max_ms = 400,
	.healthy_ms = 10000,
	.grace_ms = 300,
	.start_ms = 3000,
};

/* stderr (the log) goes to a file while a test runs. */
static int saved_stderr = -1;
static char *log_path;

static int setup(void **state)
{
	int fd;

	if (testlib_setup_tmpdir(state))
		return -1;
	log_path = testlib_path("log");
	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0 || dup2(fd, 2) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	free(log_path);
	return testlib_teardown_tmpdir(state);
}

static char *script(const char *name, const char *body)
{
	char *path = testlib_path(name);

	testlib_write_text(path, body);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait up to ms for the log to hold needle; show the log when it does not. */
static bool log_has(const char *needle, unsigned ms)
{
	char *all;

	for (unsigned waited = 0;; waited += 20) {
		if (testlib_file_count(log_path, needle) > 0)
			return true;
		if (waited >= ms)
			break;
		sleep_ms(20);
	}
	all = testlib_read_file(log_path, NULL);
	printf("---- the log lacks '%s':\n%s----\n", needle, all ? all : "");
	free(all);
	return false;
}

/* Dies at once, the way dnsmasq does when port 67 is taken; each start noted in starts. */
static const char failing[] =
	"#!/bin/sh\n"
	"date +%s%N >> \"$(dirname \"$0\")/starts\"\n"
	"echo\n"
	"echo \"dnsmasq: failed to bind DHCP server socket: Address already in use\" >&2\n"
	"echo \"dnsmasq[$$]: FAILED to start up\" >&2\n"
	"exit 2\n";

static void test_failure_backoff(void **state)
{
	char *prog = script("dnsmasq", failing), *starts_path = testlib_path("starts");
	char *argv[] = { prog, "--keep-in-foreground", NULL };
	struct pxe_service *s;
	char err[1024] = "", *starts;
	long long t[8];
	int n = 0;

	(void)state;
	assert_int_equal(pxe_service_new(&fast, &s), 0);
	assert_int_equal(pxe_service_run(s, argv, "conf one\n", true, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "dnsmasq exited with status 2: failed to bind DHCP server "
				    "socket: Address already in use - port"));
	assert_non_null(strstr(err, "is already taken by another DHCP server on this host"));
	/* it keeps trying: 100, 200, 400, 400 ms apart; waited for by the log, not by the clock,
	 * so a loaded machine only makes it slower */
	for (unsigned waited = 0; testlib_file_count(log_path, "; restarting in 400 ms") < 2; waited += 20) {
		assert_true(waited < 20000);
		sleep_ms(20);
	}
	pxe_service_halt(s);
	starts = testlib_read_file(starts_path, NULL);
	assert_non_null(starts);
	for (char *p = starts; *p && n < 8; p = strchr(p, '\n') + 1)
		t[n++] = atoll(p) / 1000000;
	assert_in_range(n, 4, 8);
	assert_true(t[1] - t[0] >= 90);
	assert_true(t[2] - t[1] >= 190);
	assert_true(t[3] - t[2] >= 390);
	if (n > 4)
		assert_true(t[4] - t[3] >= 390);
	assert_int_equal(testlib_file_count(log_path, "restarting in 800 ms"), 0); /* the cap */
	assert_true(log_has("error: dnsmasq exited with status 2: failed to bind DHCP server "
			    "socket: Address already in use - port", 0));
	assert_true(log_has("; restarting in 100 ms", 0));
	assert_true(log_has("; restarting in 200 ms", 0));
	assert_true(log_has("; restarting in 400 ms", 0));
	assert_int_equal(testlib_file_count(log_path, "FAILED to start up"), n);
	pxe_service_free(s);
	free(starts);
	free(starts_path);
	free(prog);
}

/* Comes up like dnsmasq and runs until told to stop. */
static const char healthy[] =
	"#!/bin/sh\n"
	"echo \"dnsmasq[$$]: started, version 2.90 DNS disabled\" >&2\n"
	"echo \"dnsmasq-dhcp[$$]: DHCP, proxy on subnet 192.0.2.0\" >&2\n"
	"echo \"dnsmasq-tftp[$$]: TFTP root is /x secure mode\"\n"
	"trap 'echo \"dnsmasq[$$]: exiting on receipt of SIGTERM\"; exit 0' TERM\n"
	"while :; do sleep 0.05; done\n";

static void test_run_restart_halt(void **state)
{
	char *prog = script("dnsmasq", healthy);
	char *argv[] = { prog, "--conf-file=/x", NULL };
	struct pxe_service *s;
	char err[1024] = "", *text;
	pid_t first;

	(void)state;
	assert_int_equal(pxe_service_new(&fast, &s), 0);
	assert_null(pxe_service_text(s));
	assert_int_equal(pxe_service_run(s, argv, "conf one\n", true, err, sizeof(err)), 0);
	first = pxe_service_pid(s);
	assert_true(first > 0);
	assert_int_equal(pxe_service_starts(s), 1);
	text = pxe_service_text(s);
	assert_string_equal(text, "conf one\n");
	free(text);
	/* its lines, each with the prefix */
	assert_true(log_has("info: dnsmasq: started, version 2.90 DNS disabled\n", 2000));
	assert_true(log_has("info: dnsmasq: dhcp: DHCP, proxy on subnet 192.0.2.0\n", 2000));
	assert_true(log_has("info: dnsmasq: tftp: TFTP root is /x secure mode\n", 2000));

	/* the same again: nothing happens */
	assert_int_equal(pxe_service_run(s, argv, "conf one\n", true, err, sizeof(err)), 0);
	assert_int_equal(pxe_service_starts(s), 1);
	assert_int_equal(pxe_service_pid(s), first);

	/* a new configuration: the old one stops (SIGTERM), the new one starts */
	assert_int_equal(pxe_service_run(s, argv, "conf two\n", true, err, sizeof(err)), 0);
	assert_int_equal(pxe_service_starts(s), 2);
	assert_true(pxe_service_pid(s) > 0 && pxe_service_pid(s) != first);
	assert_int_equal(kill(first, 0), -1);
	assert_true(log_has("dnsmasq: exiting on receipt of SIGTERM", 2000));
	text = pxe_service_text(s);
	assert_string_equal(text, "conf two\n");
	free(text);
	/* a stop asked for is no failure */
	assert_int_equal(testlib_file_count(log_path, "restarting in"), 0);

	/* killed from outside: restarted after the backoff, and said so */
	first = pxe_service_pid(s);
	assert_int_equal(kill(first, SIGKILL), 0);
	assert_true(log_has("error: dnsmasq was killed by signal 9 (Killed); restarting in 100 ms", 2000));
	for (int i = 0; i < 100 && pxe_service_starts(s) < 3; i++)
		sleep_ms(20);
	assert_int_equal(pxe_service_starts(s), 3);
	assert_true(pxe_service_pid(s) > 0 && pxe_service_pid(s) != first);

	pxe_service_halt(s);
	assert_int_equal(pxe_service_pid(s), 0);
	assert_null(pxe_service_text(s));
	sleep_ms(300); /* halted: nothing restarts it */
	assert_int_equal(pxe_service_starts(s), 3);
	pxe_service_free(s);
	free(prog);
}

/* Like dnsmasq: SIGHUP re-reads its files (a shell dies of a SIGHUP before its trap is set, as
 * dnsmasq could before its handler is). Slow to come up when told to. */
static const char rereads[] =
	"#!/bin/sh\n"
	"[ -e \"$(dirname \"$0\")/slow\" ] && sleep 0.4\n"
	"trap 'echo \"dnsmasq[$$]: read /x/dnsmasq.hosts\"' HUP\n"
	"echo \"dnsmasq[$$]: started, version 2.90 DNS disabled\"\n"
	"while :; do sleep 0.05; done\n";

/* SIGHUP to the running child instead of a restart: sent at once when it is up, after its ready
 * line when it is starting, nothing when none runs; the text shown kept beside. */
static void test_signal_and_shown(void **state)
{
	char *prog = script("dnsmasq", rereads), *slow = testlib_path("slow");
	char *argv[] = { prog, "--conf-file=/x", NULL };
	struct pxe_service *s;
	char err[512] = "", *text;
	pid_t first;

	(void)state;
	assert_int_equal(pxe_service_new(&fast, &s), 0);
	assert_int_equal(pxe_service_signal(s, SIGHUP), -ESRCH);
	assert_false(pxe_service_runs(s, argv, "conf\n"));
	assert_null(pxe_service_shown(s));
	assert_true(pxe_service_show(s, "conf\n# shown\n"));
	assert_int_equal(pxe_service_run(s, argv, "conf\n", true, err, sizeof(err)), 0);
	first = pxe_service_pid(s);
	assert_true(pxe_service_runs(s, argv, "conf\n"));
	assert_false(pxe_service_runs(s, argv, "other\n"));
	text = pxe_service_shown(s);
	assert_string_equal(text, "conf\n# shown\n");
	free(text);
	assert_false(pxe_service_show(s, "conf\n# shown\n"));
	assert_true(pxe_service_show(s, "conf\n# shown again\n"));

	assert_int_equal(pxe_service_signal(s, SIGHUP), 0);
	assert_true(log_has("info: dnsmasq: read /x/dnsmasq.hosts\n", 2000));
	assert_int_equal(pxe_service_pid(s), first);
	assert_int_equal(pxe_service_starts(s), 1);

	/* starting: the signal waits for the ready line (the shell would die of it before) */
	testlib_write_text(slow, "");
	assert_int_equal(pxe_service_run(s, argv, "conf two\n", false, err, sizeof(err)), 0);
	for (int i = 0; i < 100 && pxe_service_starts(s) < 2; i++)
		sleep_ms(10);
	assert_int_equal(pxe_service_signal(s, SIGHUP), 0);
	for (int i = 0; i < 200 && testlib_file_count(log_path, "dnsmasq: read /x/dnsmasq.hosts") < 2; i++)
		sleep_ms(20);
	assert_int_equal(testlib_file_count(log_path, "dnsmasq: read /x/dnsmasq.hosts"), 2);
	assert_int_equal(testlib_file_count(log_path, "restarting in"), 0);
	assert_int_equal(pxe_service_starts(s), 2);
	/* without a text of its own to show: the configuration itself */
	assert_true(pxe_service_show(s, NULL));
	assert_false(pxe_service_show(s, NULL));
	text = pxe_service_shown(s);
	assert_string_equal(text, "conf two\n");
	free(text);

	pxe_service_halt(s);
	assert_int_equal(pxe_service_signal(s, SIGHUP), -ESRCH);
	assert_null(pxe_service_shown(s));
	pxe_service_free(s);
	free(slow);
	free(prog);
}

/* Ignores SIGTERM: SIGKILL after the grace period, its whole process group. */
static const char stubborn[] =
	"#!/bin/sh\n"
	"trap '' TERM\n"
	"echo \"dnsmasq[$$]: started, version 2.90 DNS disabled\"\n"
	"while :; do sleep 0.05; done\n";

static void test_sigkill_after_grace(void **state)
{
	char *prog = script("dnsmasq", stubborn);
	char *argv[] = { prog, NULL };
	struct pxe_service *s;
	char err[512];
	struct timespec a, b;
	long ms;

	(void)state;
	assert_int_equal(pxe_service_new(&fast, &s), 0);
	assert_int_equal(pxe_service_run(s, argv, "x", true, err, sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	pxe_service_halt(s);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_in_range(ms, 250, 2000);
	assert_true(log_has("dnsmasq did not stop within 300 ms: SIGKILL", 0));
	pxe_service_free(s);
	free(prog);
}

/* A program that cannot be run, and one that never says it is up. */
static void test_not_installed_and_silent(void **state)
{
	char *argv[] = { "/nonexistent/dnsmasq", NULL };
	char *prog = script("dnsmasq", "#!/bin/sh\nexec sleep 5\n");
	char *argv2[] = { prog, NULL };
	struct pxe_service_timing t = fast;
	struct pxe_service *s;
	char err[1024] = "";

	(void)state;
	assert_int_equal(pxe_service_new(&fast, &s), 0);
	assert_int_equal(pxe_service_run(s, argv, "x", true, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "exited with status 127"));
	assert_non_null(strstr(err, "install it (apt-get install dnsmasq-base) or set pxe-dnsmasq"));
	pxe_service_free(s);

	t.start_ms = 300;
	assert_int_equal(pxe_service_new(&t, &s), 0);
	assert_int_equal(pxe_service_run(s, argv2, "x", true, err, sizeof(err)), -ETIMEDOUT);
	assert_string_equal(err, "dnsmasq did not report start-up within 300 ms");
	pxe_service_free(s); /* stops it */
	free(prog);
}

static void test_explain(void **state)
{
	static const struct {
		const char *line, *hint;
	} cases[] = {
		{ "failed to bind DHCP server socket: Address already in use", "another DHCP server" },
		{ "failed to create listening socket for 192.0.2.1: Address already in use",
		  "port 69 (TFTP) is already taken" },
		{ "process is missing required capability NET_ADMIN", "CAP_NET_ADMIN" },
		{ "failed to bind DHCP server socket: Permission denied", "CAP_NET_BIND_SERVICE" },
		{ "unknown interface br9", "check pxe-interface" },
		{ "TFTP directory /x inaccessible: Permission denied", "every directory on the way" },
		{ "cannot open or create lease file /x: Permission denied", "every directory on the way" },
		{ "bad option at line 3 of /x", "please report" },
		{ "spawn: exec /usr/sbin/dnsmasq: No such file or directory", "apt-get install dnsmasq-base" },
		{ "started, version 2.90 DNS disabled", NULL },
		{ "", NULL },
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = pxe_service_explain(cases[i].line, buf, sizeof(buf));

		if (!cases[i].hint) {
			assert_null(got);
			continue;
		}
		assert_non_null(got);
		if (!strstr(got, cases[i].hint))
			fail_msg("'%s': '%s' lacks '%s'", cases[i].line, got, cases[i].hint);
	}
}

/* ---- pxe_files ---- */

static ino_t inode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0444);
	return st.st_ino;
}

static void test_files(void **state)
{
	char *from = testlib_path("ipxe"), *to = testlib_path("state/tftp"), *p, *q, *data, *src, *junk;
	char missing[128], err[512];
	ino_t kpxe, efi;
	size_t len;

	(void)state;
	assert_int_equal(mkdir(from, 0755), 0);
	p = testlib_asprintf("%s/undionly.kpxe", from);
	testlib_write_text(p, "kpxe one");
	free(p);
	p = testlib_asprintf("%s/real-ipxe.efi", from); /* Debian links ipxe.efi to /boot */
	testlib_write_text(p, "efi bytes");
	q = testlib_asprintf("%s/ipxe.efi", from);
	assert_int_equal(symlink(p, q), 0);
	free(p);
	free(q);
	p = testlib_asprintf("%s/ipxe.lkrn", from); /* not one of ours */
	testlib_write_text(p, "no");
	free(p);

	assert_int_equal(pxe_files_install(from, to, (uid_t)-1, (gid_t)-1, missing, sizeof(missing),
					   err, sizeof(err)), 0);
	assert_string_equal(missing, "snponly.efi");
	assert_int_equal(testlib_dir_count(to), 2);
	p = testlib_asprintf("%s/undionly.kpxe", to);
	q = testlib_asprintf("%s/ipxe.efi", to);
	data = testlib_read_file(p, &len);
	assert_string_equal(data, "kpxe one");
	free(data);
	data = testlib_read_file(q, &len);
	assert_string_equal(data, "efi bytes");
	free(data);
	kpxe = inode(p);
	efi = inode(q);

	/* same bytes: left alone; new bytes: a new file renamed over; junk swept */
	src = testlib_asprintf("%s/undionly.kpxe", from);
	junk = testlib_asprintf("%s/.undionly.kpxe.tmp", to);
	testlib_write_text(junk, "half");
	testlib_write_text(src, "kpxe two");
	free(src);
	free(junk);
	assert_int_equal(pxe_files_install(from, to, (uid_t)-1, (gid_t)-1, missing, sizeof(missing),
					   err, sizeof(err)), 0);
	assert_int_equal(testlib_dir_count(to), 2);
	assert_int_equal(inode(q), efi);
	assert_true(inode(p) != kpxe);
	data = testlib_read_file(p, &len);
	assert_string_equal(data, "kpxe two");
	free(data);
	free(p);
	free(q);

	/* none there: what to install */
	p = testlib_path("empty");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(pxe_files_install(p, to, (uid_t)-1, (gid_t)-1, missing, sizeof(missing), err,
					   sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "apt-get install ipxe"));
	assert_string_equal(missing, "undionly.kpxe snponly.efi ipxe.efi");
	free(p);

	assert_true(pxe_files_known("undionly.kpxe") && pxe_files_known("snponly.efi") &&
		    pxe_files_known("ipxe.efi"));
	assert_false(pxe_files_known("ipxe.lkrn") || pxe_files_known("../undionly.kpxe") ||
		     pxe_files_known("") || pxe_files_known("UNDIONLY.KPXE"));
	free(from);
	free(to);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failure_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_restart_halt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_and_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_after_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_installed_and_silent, setup, teardown),
		cmocka_unit_test(test_explain),
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
	};

	log_set_level(LOG_LEVEL_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
