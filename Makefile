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
# The daemon links everything; the CLI only libcurl and jansson.
PKGS = libmicrohttpd libcurl zlib liblzma jansson libcrypto libelf
CLI_PKGS = libcurl jansson
# Recursively expanded on purpose: `make deps all` installs the libraries before the first
# compile asks for their flags, so pkg-config must run then, not while this file is parsed.
pkg_libs = $(or $(shell pkg-config --libs $(1)),$(error pkg-config --libs $(1) failed: run `make deps` first))
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -MMD -MP $(WARNINGS) $(PKG_CFLAGS) -iquote daemon $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)
LIBS = $(call pkg_libs,$(PKGS)) -lpthread
CLI_LIBS = $(call pkg_libs,$(CLI_PKGS))
TEST_LIBS = $(LIBS) $(call pkg_libs,cmocka)

# The daemon's subsystems, in layer order (lib <- conf <- build, boot <- http <- tinybootd.c);
# scripts/check-layers.sh keeps the includes pointing that way.
LAYERS = lib conf build boot http
CORE_SRCS = $(foreach l,$(LAYERS),$(sort $(wildcard daemon/$(l)/*.c)))
DAEMON_SRCS = daemon/tinybootd.c $(CORE_SRCS)
CLI_SRCS = $(sort $(wildcard daemon/cli/*.c)) daemon/lib/log.c
# One cmocka binary per tests/unit/test_NAME.c, each linked with testlib and the daemon's modules.
UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(sort $(wildcard tests/unit/test_*.c)))

CORE_OBJS = $(CORE_SRCS:%.c=$(BUILD)/%.o)
DAEMON_OBJS = $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS = $(UNIT_TESTS:%=$(BUILD)/tests/%)
TESTLIB_OBJ = $(BUILD)/tests/unit/testlib.o

.PHONY: all asan test unit integration check-layers check-systemd check-fresh install uninstall deps sources clean run \
	bench bench-http bench-build bench-boot bench-size bench-storm

all: $(BUILD)/tinybootd $(BUILD)/tinyboot

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tinybootd: $(DAEMON_OBJS)
	$(CC) $(ALL_LDFLAGS) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tinyboot: $(CLI_OBJS)
	$(CC) $(ALL_LDFLAGS) $(CFLAGS) $^ $(CLI_LIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJ) $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $(CFLAGS) $^ $(TEST_LIBS) -o $@

# AddressSanitizer + UndefinedBehaviorSanitizer build in its own tree.
asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all $(UNIT_TESTS:%=build/asan/tests/%)

unit: $(UNIT_BINS)

# Unit tests and integration tests; the integration tests drive the ASan build of the daemon
# so a leak or memory error fails them.
test: check-layers all asan unit sources
	@tests/run

# Includes point one way between the daemon's folders.
check-layers:
	@scripts/check-layers.sh

# The systemd unit, alone and with the PXE drop-in, through `systemd-analyze verify` (offline).
check-systemd: all
	@scripts/check-systemd.sh $(BUILD)/tinybootd

# A bare Debian 12 root (debootstrap, cached outside the repository) builds the tree and runs
# the unit tests: proves that `make deps` installs everything the build needs.
check-fresh:
	@scripts/check-fresh.sh

# The PXE drop-in goes beside the recipes, not into /etc: PXE's capabilities are granted only
# when the admin copies it to /etc/systemd/system/tinybootd.service.d/.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(BUILD)/tinybootd $(DESTDIR)$(SBINDIR)/tinybootd
	install -m 0755 $(BUILD)/tinyboot $(DESTDIR)$(BINDIR)/tinyboot
	cp -R images kernel-config rootfs www $(DESTDIR)$(SHAREDIR)/
	install -m 0644 etc/tinybootd.conf $(DESTDIR)$(SYSCONFDIR)/tinybootd.conf
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 systemd/tinybootd.service $(DESTDIR)$(UNITDIR)/tinybootd.service
	install -d $(DESTDIR)$(SHAREDIR)/systemd
	install -m 0644 systemd/tinybootd-pxe.conf $(DESTDIR)$(SHAREDIR)/systemd/tinybootd-pxe.conf
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 man/tinyboot.1 $(DESTDIR)$(PREFIX)/share/man/man1/tinyboot.1
	install -m 0644 man/tinybootd.conf.5 man/machines.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/tinybootd.8 $(DESTDIR)$(PREFIX)/share/man/man8/tinybootd.8

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

bench: bench-http bench-build bench-boot bench-size bench-storm

bench-http: all
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 $(WARNINGS) -pthread bench/ceiling.c -o $(BUILD)/ceiling
	@CEILING=$(BUILD)/ceiling scripts/bench-http.sh

bench-build: all
	@scripts/bench-build.sh

bench-boot: all sources
	@scripts/bench-boot.sh
	@scripts/bench-pxe.sh

bench-size: all sources
	@scripts/bench-size.sh

# The storm and report drivers (bench/) are benchmark tools, not tests: built here only.
bench-storm: all
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 $(WARNINGS) bench/storm.c -o $(BUILD)/storm
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 $(WARNINGS) bench/reports.c -o $(BUILD)/reports
	@STORM=$(BUILD)/storm scripts/bench-storm.sh
	@REPORTS=$(BUILD)/reports scripts/bench-reports.sh

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
