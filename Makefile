# tinyboot - build, test, install, deps, sources, benchmarks.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
SHAREDIR = $(PREFIX)/share/tinyboot
SYSCONFDIR ?= $(PREFIX)/etc/tinyboot
UNITDIR ?= /lib/systemd/system

CC ?= gcc
BUILD ?= build
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Werror=format-security
PKGS = libmicrohttpd libcurl zlib liblzma jansson libcrypto libelf
# Recursively expanded on purpose: `make deps all` installs the libraries before the first
# compile asks for their flags, so pkg-config must run then, not while this file is parsed.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(or $(shell pkg-config --libs $(PKGS)),$(error pkg-config --libs $(PKGS) failed: run `make deps` first))
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -MMD -MP $(WARNINGS) $(PKG_CFLAGS) -iquote daemon $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread

# Daemon modules shared by tinybootd and the unit tests.
CORE_SRCS = daemon/log.c daemon/options.c daemon/listen.c daemon/sdnotify.c daemon/urlname.c \
	    daemon/range.c daemon/httpdate.c daemon/digest.c daemon/etag.c daemon/runtime.c \
	    daemon/http.c daemon/http_file.c daemon/api.c daemon/cpio.c daemon/spawn.c \
	    daemon/fsutil.c daemon/recipe.c daemon/variant.c daemon/kconfig.c daemon/sources.c \
	    daemon/buildkey.c daemon/buildutil.c daemon/kbuild.c daemon/bbuild.c daemon/initramfs.c \
	    daemon/builder.c daemon/http_images.c daemon/machines.c daemon/ipxe.c daemon/boots.c \
	    daemon/payloads.c daemon/http_boot.c daemon/ksize.c daemon/http_size.c
DAEMON_SRCS = daemon/tinybootd.c $(CORE_SRCS)
CLI_SRCS = daemon/cli_main.c daemon/cli_boot.c daemon/cli_size.c daemon/log.c
UNIT_TESTS = test_urlname test_range test_httpdate test_options test_cpio test_sources test_kconfig test_recipe test_machines test_ipxe test_ksize

CORE_OBJS = $(CORE_SRCS:%.c=$(BUILD)/%.o)
DAEMON_OBJS = $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS = $(UNIT_TESTS:%=$(BUILD)/tests/%)

.PHONY: all asan test unit integration install uninstall deps sources clean run \
	bench bench-http bench-build bench-boot bench-size

all: $(BUILD)/tinybootd $(BUILD)/tinyboot

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tinybootd: $(DAEMON_OBJS)
	$(CC) $(ALL_LDFLAGS) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tinyboot: $(CLI_OBJS)
	$(CC) $(ALL_LDFLAGS) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $(CFLAGS) $^ $(LIBS) $(shell pkg-config --libs cmocka) -o $@

# AddressSanitizer + UndefinedBehaviorSanitizer build in its own tree.
asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all $(UNIT_TESTS:%=build/asan/tests/%)

unit: $(UNIT_BINS)

# Unit tests and integration tests; the integration tests drive the ASan build of the daemon
# so a leak or memory error fails them.
test: all asan unit sources
	@tests/run

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(BUILD)/tinybootd $(DESTDIR)$(SBINDIR)/tinybootd
	install -m 0755 $(BUILD)/tinyboot $(DESTDIR)$(BINDIR)/tinyboot
	cp -R images kernel-config rootfs $(DESTDIR)$(SHAREDIR)/
	install -m 0644 etc/tinybootd.conf $(DESTDIR)$(SYSCONFDIR)/tinybootd.conf
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 systemd/tinybootd.service $(DESTDIR)$(UNITDIR)/tinybootd.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tinybootd $(DESTDIR)$(BINDIR)/tinyboot \
	      $(DESTDIR)$(UNITDIR)/tinybootd.service
	rm -rf $(DESTDIR)$(SHAREDIR)

deps:
	@scripts/deps.sh

sources:
	@scripts/sources.sh

# The main job: start the daemon on the embedded defaults and show where it serves.
run: all sources
	@scripts/run.sh

bench: bench-http bench-build bench-boot bench-size

bench-http: all
	@scripts/bench-http.sh

bench-build: all
	@scripts/bench-build.sh

bench-boot: all sources
	@scripts/bench-boot.sh

bench-size: all sources
	@scripts/bench-size.sh

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
