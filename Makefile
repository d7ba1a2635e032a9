# SPDX-License-Identifier: GPL-2.0
#
# shikumi top-level Makefile.
#
#   make                  build the modules (for KDIR) and the CLI
#   make modules          modules only, in build/kmod/KERNELRELEASE/
#   make tools            the CLI and the test helpers, in build/bin/
#   make deps             install the Debian packages the project needs
#   make check            README's test command: the bats suite in the lab,
#                         on 6.1, 6.12, 7.x and the debug kernel
#                         (also: make check-all)
#   make check-debug      the suite on the debug kernel only (KASAN, lockdep,
#                         kmemleak, UBSAN, fault injection; built once)
#   make lint             checkpatch --strict and sparse on kernel code
#   make install          modules into /lib/modules/KVER/updates, depmod, CLI
#   make sign KEY= CERT=  sign the built modules (Secure Boot)
#   make dkms-install     the modules' sources into /usr/src, then DKMS
#                         builds and installs them for KVER (default:
#                         the running kernel) and every kernel after
#   make deb              the packages shikumi-dkms and shikumi, into
#                         build/deb/ (dpkg-buildpackage -us -uc -b)
#   make clean
#
# KDIR defaults to the running kernel's build directory and, when that is
# missing, to the newest /lib/modules/*/build.  `make KDIR=...` picks one.

KDIR ?= $(shell scripts/kdir)

.PHONY: all modules tools deps check check-all check-debug lint bench install sign \
	dkms-install deb clean

all: modules tools

modules:
	@scripts/kbuild $(KDIR)

tools:
	@$(MAKE) --no-print-directory -C tools/shikumi
	@$(MAKE) --no-print-directory -C tests/helpers

deps:
	@scripts/deps

check check-all:
	./scripts/check

check-debug:
	./scripts/check --kernel debug

lint:
	@scripts/lint

# A benchmark, not a test: shikumi_ramdisk against brd and null_blk, the
# in-driver policies on the emulated HDD, and shikumi_ptdump against
# /proc/PID/pagemap, shikumi_pgcache against fincore on a 1 GiB file (the
# guest gets 3 GiB for it), in one guest boot.
# KERNEL: 6.1, 6.12 or 7.x (default: the lab's default)
bench: tools
	./scripts/lab --mem 3072 $(if $(KERNEL),--kernel $(KERNEL)) -- scripts/bench

# KVER: the kernel to install for (default: the running kernel)
install: tools
	@scripts/install $(KVER)

sign:
	@test -n "$(KEY)" -a -n "$(CERT)" || { echo "usage: make sign KEY=key.pem CERT=cert.pem [KVER=...]" >&2; exit 2; }
	@scripts/sign $(KEY) $(CERT) $(KVER)

dkms-install:
	@scripts/dkms-install $(KVER)

deb:
	@scripts/deb

clean:
	rm -rf build
	@$(MAKE) --no-print-directory -C tools/shikumi clean
	@$(MAKE) --no-print-directory -C tests/helpers clean
