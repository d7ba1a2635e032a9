# SPDX-License-Identifier: GPL-2.0
#
# shikumi top-level Makefile.
#
#   make                  build the modules (for KDIR) and the CLI
#   make modules          modules only, in build/kmod/KERNELRELEASE/
#   make tools            the CLI and the test helpers, in build/bin/
#   make deps             install the Debian packages the project needs
#   make check            README's test command: the bats suite in the lab
#   make lint             checkpatch --strict and sparse on kernel code
#   make clean
#
# KDIR defaults to the running kernel's build directory and, when that is
# missing, to the newest /lib/modules/*/build.  `make KDIR=...` picks one.

KDIR ?= $(shell scripts/kdir)

.PHONY: all modules tools deps check lint clean

all: modules tools

modules:
	@scripts/kbuild $(KDIR)

tools:
	@$(MAKE) --no-print-directory -C tools/shikumi
	@$(MAKE) --no-print-directory -C tests/helpers

deps:
	@scripts/deps

check:
	./scripts/lab -- tests/run

lint:
	@scripts/lint

clean:
	rm -rf build
	@$(MAKE) --no-print-directory -C tools/shikumi clean
	@$(MAKE) --no-print-directory -C tests/helpers clean
