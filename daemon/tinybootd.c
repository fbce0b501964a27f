/* tinybootd.c - start-up, signals and shutdown of the daemon. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "boot/boots.h"
#include "boot/nextboot.h"
#include "boot/pxe_service.h"
#include "boot/pxe_setup.h"
#include "build/builder.h"
#include "build/store.h"
#include "lib/etag.h"
#include "http/gc.h"
#include "http/server.h"
#include "lib/listen.h"
#include "lib/loopback.h"
#include "lib/log.h"
#include "conf/options.h"
#include "lib/sdnotify.h"
#include "tinyboot.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,
	EXIT_DIRS = 2,
	EXIT_LISTEN = 3,
	EXIT_HTTP = 4,
	EXIT_PXE = 5,
};

/* Where the PXE service keeps its files: the store knows STATE's layout. */
struct tinybootd_pxe_paths {
	char conf[4096], leases[4096], hosts[4096], tftp[4096];
	struct pxe_paths p;
};

static int tinybootd_pxe_paths(const char *state_dir, struct tinybootd_pxe_paths *out)
{
	int rc;

	if ((rc = store_layout_path(state_dir, STORE_PXE, "dnsmasq.conf", out->conf, sizeof(out->conf))) ||
	    (rc = store_layout_path(state_dir, STORE_PXE, "dnsmasq.leases", out->leases, sizeof(out->leases))) ||
	    (rc = store_layout_path(state_dir, STORE_PXE, "dnsmasq.hosts", out->hosts, sizeof(out->hosts))) ||
	    (rc = store_layout_path(state_dir, STORE_TFTP, NULL, out->tftp, sizeof(out->tftp))))
		return rc;
	out->p.conf = out->conf;
	out->p.leases = out->leases;
	out->p.hosts = out->hosts;
	out->p.tftp = out->tftp;
	return 0;
}

/* Configure and (re)start the PXE service for rt (halt it for pxe = off). */
static int tinybootd_pxe_apply(struct tinyboot *tb, const struct runtime *rt, bool wait, char *err,
			       size_t errlen)
{
	struct tinybootd_pxe_paths paths;

	if (tinybootd_pxe_paths(rt->opts.state_dir, &paths)) {
		snprintf(err, errlen, "state directory path too long");
		return -ENAMETOOLONG;
	}
	return pxe_setup_apply(tb->pxe, &rt->opts, rt->machines, tb->listen_address, &paths.p, wait,
			       err, errlen);
}

/* Mass boots open many connections at once: use the whole hard limit. */
static void tinybootd_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int tinybootd_check(struct options *opts)
{
	struct tinybootd_pxe_paths paths;
	struct sockaddr_storage ss;
	struct runtime *rt = NULL;
	socklen_t len;
	char err[1024];
	int rc;

	if (listen_parse(opts->listen, &ss, &len)) {
		fprintf(stderr, "tinybootd: listen: '%s' is not ADDR:PORT\n", opts->listen);
		options_free(opts);
		return EXIT_CONFIG;
	}
	rc = runtime_check(opts, &rt, err, sizeof(err)); /* -n changes nothing on disk */
	if (rc) {
		fprintf(stderr, "tinybootd: %s\n", err);
		return rc == -EINVAL ? EXIT_CONFIG : EXIT_DIRS;
	}
	if (tinybootd_pxe_paths(rt->opts.state_dir, &paths)) {
		fprintf(stderr, "tinybootd: state directory path too long\n");
		runtime_put(rt);
		return EXIT_CONFIG;
	}
	rc = pxe_setup_check(&rt->opts, rt->machines, rt->opts.listen, &paths.p, err, sizeof(err));
	runtime_put(rt);
	if (rc) {
		fprintf(stderr, "tinybootd: PXE: %s\n", err);
		return EXIT_CONFIG;
	}
	printf("configuration OK\n");
	return EXIT_OK;
}

/* The running state directory was made absolute (runtime_open): a relative one from the same
 * flags must compare equal to it, without creating anything. */
static void tinybootd_absolute_state(struct options *opts)
{
	char *real;

	if (opts->state_dir && opts->state_dir[0] != '/' && (real = realpath(opts->state_dir, NULL))) {
		free(opts->state_dir);
		opts->state_dir = real;
	}
}

/* Beyond loopback without api-tokens, anyone who reaches the port could change things: that is
 * refused (403), but the admin should hear of it once, at start and after a reload. */
static void tinybootd_warn_open(const struct tinyboot *tb, const struct runtime *rt)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (rt->tokens || (listen_parse(tb->listen_address, &ss, &len) == 0 &&
			   loopback_is((const struct sockaddr *)&ss)))
		return;
	log_warnx("listening on %s beyond loopback without api-tokens: requests that change state "
		  "(builds, boots) are refused (403) except from loopback; set api-tokens = FILE to "
		  "allow them with a bearer token", tb->listen_address);
}

static void tinybootd_reload(struct tinyboot *tb, int argc, char *argv[])
{
	struct options opts;
	struct runtime *rt;
	char err[1024], names[512];

	sdnotify("RELOADING=1");
	if (options_load(&opts, argc, argv, err, sizeof(err))) {
		log_error("reload: %s; keeping the running configuration", err);
		options_free(&opts);
		goto out;
	}
	/* the socket, the state directory's lock and journal, the thread pools: set up once */
	tinybootd_absolute_state(&opts);
	if (options_restart_changes(&tb->current.rt->opts, &opts, names, sizeof(names))) {
		log_error("reload: only a restart can change %s; keeping the running configuration", names);
		options_free(&opts);
		goto out;
	}
	if (runtime_open(&opts, &rt, err, sizeof(err))) {
		log_error("reload: %s; keeping the running configuration", err);
		goto out;
	}
	log_set_level(rt->opts.log_level);
	runtime_replace(&tb->current, rt);
	log_info("configuration reloaded");
	tinybootd_warn_open(tb, rt);
	/* rt stays valid: only this thread replaces the runtime */
	if (tinybootd_pxe_apply(tb, rt, false, err, sizeof(err)))
		log_error("reload: PXE: %s", err);
out:
	sdnotify("READY=1");
}

int main(int argc, char *argv[])
{
	struct tinyboot tb;
	struct options opts;
	sigset_t sigs;
	char err[1024], path[4096];
	int listen_fd, sig, rc;

	if (options_load(&opts, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "tinybootd: %s\n", err);
		options_free(&opts);
		return EXIT_CONFIG;
	}
	if (opts.show_help) {
		options_print_help(argv[0]);
		options_free(&opts);
		return EXIT_OK;
	}
	if (opts.show_version) {
		printf("tinybootd %s\n", TINYBOOT_VERSION);
		options_free(&opts);
		return EXIT_OK;
	}
	if (opts.check_only)
		return tinybootd_check(&opts);
	log_set_level(opts.log_level);

	/* Signals are taken synchronously in this thread; pool threads inherit the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	tinybootd_raise_nofile();

	memset(&tb, 0, sizeof(tb));
	pthread_mutex_init(&tb.current.lock, NULL);
	tb.started = time(NULL);
	rc = runtime_open(&opts, &tb.current.rt, err, sizeof(err));
	if (rc)
		fatalx(rc == -EINVAL ? EXIT_CONFIG : EXIT_DIRS, "%s", err);
	tb.etags = etag_cache_new();
	if (!tb.etags)
		fatalx(EXIT_DIRS, "out of memory");

	struct boots_limits limits = {
		BOOTS_MAX, BOOTS_REPORT_BYTES, BOOTS_UNLISTED_MAX, BOOTS_UNLISTED_REPORT_BYTES,
		tb.current.rt->opts.boots_log_max_size, tb.current.rt->opts.boots_log_keep,
	};
	if (boots_open_limits(tb.current.rt->opts.state_dir, &limits, &tb.boots, err, sizeof(err)))
		fatalx(EXIT_DIRS, "%s", err);
	rc = store_layout_file(tb.current.rt->opts.state_dir, STORE_FILE_NEXT, path, sizeof(path));
	if (rc)
		snprintf(err, sizeof(err), "%s: %s", tb.current.rt->opts.state_dir, strerror(-rc));
	else
		rc = nextboot_open(path, &tb.next, err, sizeof(err));
	if (rc)
		fatalx(EXIT_DIRS, "boot overrides: %s", err);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (builder_new(tb.etags, tb.current.rt->opts.state_dir, tb.current.rt->opts.max_kernel_builds, &tb.builder))
		fatalx(EXIT_DIRS, "cannot set up the build queue in %s", tb.current.rt->opts.state_dir);
	builder_on_publish(tb.builder, http_gc_current, &tb); /* retention after each build */

	listen_fd = listen_open(tb.current.rt->opts.listen, tb.listen_address, sizeof(tb.listen_address));
	if (listen_fd < 0)
		fatalx(EXIT_LISTEN, "cannot listen on %s", tb.current.rt->opts.listen);
	if (pxe_service_new(NULL, &tb.pxe))
		fatalx(EXIT_PXE, "cannot start the PXE service's thread");
	if (http_start(&tb, listen_fd))
		fatalx(EXIT_HTTP, "libmicrohttpd failed to start on %s", tb.listen_address);
	/* after HTTP: the boot URLs carry the port it is bound to */
	rc = tinybootd_pxe_apply(&tb, tb.current.rt, true, err, sizeof(err));
	if (rc) {
		pxe_service_halt(tb.pxe); /* stops a dnsmasq that did not come up in time */
		fatalx(rc == -EIO || rc == -ETIMEDOUT ? EXIT_PXE : EXIT_CONFIG, "PXE: %s", err);
	}

	printf("tinybootd %s listening on http://%s/\n", TINYBOOT_VERSION, tb.listen_address);
	fflush(stdout);
	log_info("listening on http://%s/ (state %s)", tb.listen_address, tb.current.rt->opts.state_dir);
	tinybootd_warn_open(&tb, tb.current.rt);
	sdnotify("READY=1");

	for (;;) {
		sig = sigwaitinfo(&sigs, NULL);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			log_warn("sigwaitinfo");
			break;
		}
		if (sig == SIGHUP) {
			tinybootd_reload(&tb, argc, argv);
			http_gc_current(&tb); /* the new limits (or the kept ones) apply now */
			continue;
		}
		break;
	}
	log_info("%s: finishing transfers in flight, then exiting", strsignal(sig));
	sdnotify("STOPPING=1");
	/* first: requests from now on (and those resumed below) are answered 503 + Retry-After
	 * instead of being parked or waiting on a build */
	atomic_store(&tb.draining, true);
	pxe_service_halt(tb.pxe); /* no new boots: dnsmasq goes first */
	builder_shutdown(tb.builder); /* cancels builds in flight, resumes requests parked on them */
	http_drain_and_stop(&tb, tb.current.rt->opts.drain_timeout);
	pxe_service_free(tb.pxe);
	builder_free(tb.builder);
	boots_free(tb.boots);
	nextboot_free(tb.next);
	curl_global_cleanup();
	runtime_put(tb.current.rt);
	etag_cache_free(tb.etags);
	pthread_mutex_destroy(&tb.current.lock);
	log_info("stopped");
	return EXIT_OK;
}
