/* store.h - the state directory (STATE): the one module that knows its layout. Builds publish
 * through it, the HTTP side reads through it; nobody else spells a directory name of STATE. */
#ifndef TINYBOOT_STORE_H
#define TINYBOOT_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lib/digest.h"

/* The areas of STATE whose entries others name (each a directory). The index, failure records,
 * memo and build logs are reached through the functions below only. */
enum store_area {
	STORE_ARTIFACTS, /* ARTIFACT/: bzImage initrd cmdline manifest.json build.log */
	STORE_KERNELS,   /* KEY/: bzImage vmlinux System.map config, size.json (ksize) */
	STORE_BUSYBOX,   /* KEY/: busybox busybox.links config */
	STORE_HEADERS,   /* TREE/: the kernel's UAPI headers for musl-gcc */
	STORE_TREES,     /* NAME/: persistent O= build trees, each with its lock */
	STORE_SRC,       /* NAME/: extracted (and patched) sources */
	STORE_SOURCES,   /* tarballs */
	STORE_CCACHE,    /* CCACHE_DIR */
	STORE_TMP,       /* where things are assembled before they are published */
	STORE_PXE,       /* dnsmasq.conf, .leases, .hosts: the PXE service's dnsmasq */
	STORE_TFTP,      /* the TFTP root: copies of the boot programs (boot/pxe_files) */
	STORE_PINS,      /* NAME: an empty file per pin, an artifact or a variant (build/pins) */
	STORE_AREA_COUNT
};

/* Files directly in STATE whose contents another module owns (boots.log is boot/boots'). */
enum store_toplevel {
	STORE_FILE_NEXT, /* next.json: what machines boot next (boot/nextboot) */
	STORE_FILE_COUNT
};

struct store;
struct served;

/* Open STATE (an absolute path): create it and its areas, lock it (one daemon per state
 * directory: -EWOULDBLOCK when another holds it), then remove what a crash left in tmp/.
 * Failures are logged. */
int store_open(const char *state_dir, struct store **out);
void store_free(struct store *s); /* NULL-tolerant; releases the lock */
const char *store_dir(const struct store *s);
/* When each artifact was last served (build/served.h); owned by the store. */
struct served *store_served(const struct store *s);
/* The area's directory name ("artifacts", "kernels", ...): also its name in metrics. */
const char *store_area_name(enum store_area area);

/* STATE/AREA[/NAME[/FILE]] (NAME and FILE may be NULL). -EINVAL when NAME or FILE is empty,
 * "." or ".." or holds a '/'; -ENAMETOOLONG when it does not fit. */
int store_path(const struct store *s, enum store_area area, const char *name, const char *file,
	       char *buf, size_t len);
/* The same path for a STATE that is not opened (tinybootd -n, which changes nothing on disk). */
int store_layout_path(const char *state_dir, enum store_area area, const char *name, char *buf,
		      size_t len);
/* STATE/FILE for one of enum store_toplevel; -EINVAL for another value, -ENAMETOOLONG. */
int store_layout_file(const char *state_dir, enum store_toplevel file, char *buf, size_t len);
/* mkdir -p STATE/AREA (in case it was removed since store_open). */
int store_mkdir(const struct store *s, enum store_area area);
/* STATE/AREA as an O_DIRECTORY fd (made first, as store_mkdir), or -errno. */
int store_area_open(const struct store *s, enum store_area area);
/* STATE/tmp/KIND-NAME.PID, where this process assembles an entry of AREA (artifacts, kernels,
 * busybox, headers, src) before store_publish; nothing is created. */
int store_tmp_path(const struct store *s, enum store_area area, const char *name, char *buf,
		   size_t len);
/* Remove everything in tmp/: never served, it is what a killed build left half-written. */
void store_clean_tmp(const struct store *s);

/* Publish directory tmp (in STATE/tmp) as final: fsync it, rename, fsync final's parent. A
 * reader sees no final or the whole one. When final exists already, someone published the same
 * key (the same bytes) first: theirs stays and tmp is removed. Returns 0 or -errno. */
int store_publish(const char *tmp, const char *final);

/* A build step's output file: FROM (relative to the build tree) published as NAME with MODE. */
struct store_file {
	const char *from, *name;
	mode_t mode;
};

/* Copy files out of srcdir into a fresh tmp directory and publish it as STATE/AREA/KEY (kernels,
 * busybox). The caller keeps two builds of one KEY apart (they share a tree and its lock); what
 * an earlier attempt left in tmp/ is replaced. Returns 0 or -errno with err naming the step. */
int store_publish_files(const struct store *s, enum store_area area, const char *key,
			const char *srcdir, const struct store_file *files, size_t n, char *err,
			size_t errlen);

/* Create STATE/trees/NAME (path gets it) and hold its lock: one build per tree, also across
 * daemons sharing the directory. Returns the lock fd (close it to unlock) or -errno with err. */
int store_lock_tree(const struct store *s, const char *name, char *path, size_t pathlen,
		    char *err, size_t errlen);

/* The memo of an AREA (kernels, busybox): "these configuration inputs (a hex hash) gave that
 * key", so a build whose fragments did not change skips the configuration steps. */
int store_memo_get(const struct store *s, enum store_area area, const char *inputs,
		   char key[DIGEST_HEX_LEN]);
void store_memo_put(const struct store *s, enum store_area area, const char *inputs, const char *key);

/* Build ID's log, truncated: returns the fd (O_APPEND) or -errno; path gets its name. */
int store_log_open(const struct store *s, const char *id, char *path, size_t pathlen);
/* The last lines of build ID's log (malloc'd; "(no build log)" when it cannot be read); NULL
 * when out of memory. */
char *store_log_tail(const struct store *s, const char *id);

/* Write manifest.json (indented, keys sorted) into dir, an artifact being assembled. */
int store_manifest_save(const char *dir, const json_t *manifest);
/* A published artifact's manifest. Errors: -errno of the read, -EBADMSG when it is not JSON;
 * err names the file. */
int store_manifest_load(const struct store *s, const char *artifact, size_t max, json_t **out,
			char *err, size_t errlen);

/* Publish tmp as STATE/artifacts/ARTIFACT, then index build ID -> ARTIFACT (last: the index
 * never names a missing artifact). Returns 0 or -errno with err. */
int store_artifact_publish(const struct store *s, const char *tmp, const char *id,
			   const char *artifact, char *err, size_t errlen);
/* The artifact the index names for build ID, when that artifact exists; -ENOENT if none. */
int store_index_get(const struct store *s, const char *id, char artifact[DIGEST_HEX_LEN]);
/* The directory of a published artifact (O_DIRECTORY fd) or -errno; -ENOENT for a bad name. */
int store_artifact_open(const struct store *s, const char *artifact);
/* lstat HASH/NAME in the artifact cache without opening anything. A link in the middle is not
 * refused here: callers compare what it finds with a file they opened the safe way
 * (store_artifact_open, then no link followed). */
int store_artifact_stat(const struct store *s, const char *artifact, const char *name,
			struct stat *st);
/* Every indexed build whose artifact has a manifest (directory order); the manifest is
 * borrowed for the call. Never lists what is still being assembled in tmp/. */
typedef void (*store_built_fn)(void *arg, const char *id, const char *artifact, json_t *manifest);
int store_list_built(const struct store *s, store_built_fn fn, void *arg);

/* Unlink the entries that name what gone(arg, name) says is gone, then fsync the directory:
 * STORE_ARTIFACTS the index entries naming an artifact, STORE_KERNELS or STORE_BUSYBOX the
 * memo entries naming a key. Retention calls it before it removes the files (the index never
 * names what is gone). 0 or -errno of the first failure (every entry is tried). */
int store_forget(const struct store *s, enum store_area area,
		 bool (*gone)(void *arg, const char *name), void *arg);

/* Why build ID failed, remembered across restarts with the tail of its log, until it is
 * retried or its inputs change (a new ID). */
int store_failure_put(const struct store *s, const char *id, const char *error);
/* error gets the first line, *tail (malloc'd, may be NULL) the log's tail. -ENOENT if none. */
int store_failure_get(const struct store *s, const char *id, char *error, size_t errlen, char **tail);
void store_failure_clear(const struct store *s, const char *id);

#endif
