#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Installation inside the guest, whose root is a throwaway overlay:
# make install + depmod + modprobe, `shikumi load` outside the tree, DKMS
# (refusal of unsupported kernels, build and install for the running
# kernel) and module signing with a throwaway key.
#
#   SHIKUMI_TEST_DKMS=skip	skip the in-guest DKMS build (scripts/check
#				under CI builds on one kernel per run, in turn;
#				SHIKUMI_TEST_DKMS_ON names it)

load common

# The module tree's index as the kernel's package left it, put back at the
# end: the same state a depmod after removing our modules would give, in a
# second instead of the minute depmod takes under TCG.
setup_file() {
	KVER=$(uname -r)
	export KVER
	mkdir -p "$BATS_FILE_TMPDIR/index"
	cp -a "/lib/modules/$KVER"/modules.* "$BATS_FILE_TMPDIR/index/"
}

teardown_file() {
	modprobe -r shikumi_chrdev 2>/dev/null || true
	rm -rf "/lib/modules/$KVER/updates/shikumi" /usr/local/bin/shikumi
	dkms remove shikumi/0.1 --all >/dev/null 2>&1 || true
	rm -rf /usr/src/shikumi-0.1 /lib/modules/5.10.0-30-amd64
	rm -f "/lib/modules/$KVER"/modules.*
	cp -a "$BATS_FILE_TMPDIR/index"/modules.* "/lib/modules/$KVER/"
}

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	shikumi unload 2>/dev/null || true
}

@test "make install: depmod finds the modules; modprobe and shikumi load use them" {
	run make -s install
	[ "$status" -eq 0 ]
	[ "$(modinfo -n shikumi_chrdev)" = "/lib/modules/$KVER/updates/shikumi/shikumi_chrdev.ko" ]
	grep -q '^updates/shikumi/shikumi_chrdev.ko:' "/lib/modules/$KVER/modules.dep"
	modprobe shikumi_chrdev nr_devices=3
	[ -c /dev/shikumi-chr2 ]
	modprobe -r shikumi_chrdev
	! module_loaded shikumi_chrdev

	# outside the source tree, the CLI loads the installed module
	cd /
	run /usr/local/bin/shikumi load chrdev
	[ "$status" -eq 0 ]
	module_loaded shikumi_chrdev
	run /usr/local/bin/shikumi status --json
	[ "$(jq -r '.modules[0].source' <<<"$output")" = installed ]
	[ "$(jq -r '.modules[0].path' <<<"$output")" = "/lib/modules/$KVER/updates/shikumi/shikumi_chrdev.ko" ]
	run /usr/local/bin/shikumi unload chrdev
	[ "$status" -eq 0 ]
	rm -rf "/lib/modules/$KVER/updates/shikumi"
}

# "HITS CALLS" of the compiler cache so far; with "HITS CALLS" of before,
# the difference since
ccache_hits() {
	command -v ccache >/dev/null || { echo "0 0 (no ccache)"; return; }
	ccache --print-stats | awk -v before="${1:-0 0}" '
		$1 ~ /^(direct|preprocessed)_cache_hit$/ { hit += $2 }
		$1 == "cache_miss" { miss += $2 }
		END { split(before, b, " "); print hit - b[1], hit + miss - b[2] }'
}

dkms_add() {
	dkms remove shikumi/0.1 --all >/dev/null 2>&1 || true
	rm -rf /usr/src/shikumi-0.1
	mkdir -p /usr/src/shikumi-0.1
	git -C "$SHIKUMI_ROOT" archive HEAD | tar -x -C /usr/src/shikumi-0.1
	dkms add shikumi/0.1 >/dev/null
}

@test "dkms: a kernel older than 6.1 is refused by BUILD_EXCLUSIVE" {
	dkms_add
	mkdir -p /lib/modules/5.10.0-30-amd64/build/include
	run dkms build shikumi/0.1 -k 5.10.0-30-amd64
	[ "$status" -ne 0 ]
	[[ $output == *"BUILD_EXCLUSIVE directive which does not match this kernel"* ]]
}

@test "dkms: build and install for the running kernel, then modprobe" {
	[ -e "/lib/modules/$KVER/build/Makefile" ] ||
		skip "no headers for $KVER in the guest (built on the host: tests/host/dkms.bats)"
	# gcc in a TCG guest of the debug kernel took over 15 minutes for this
	! debug_kernel ||
		skip "compiling on the debug kernel is too slow; DKMS is proven on Debian's kernels and on the host"
	# CI builds in the guest on one of Debian's kernels per run, in turn
	# (scripts/check); the host builds for all of them (tests/host/dkms.bats)
	[[ ${SHIKUMI_TEST_DKMS:-} != skip ]] ||
		skip "the in-guest DKMS build rotates over the kernels; this run's is on ${SHIKUMI_TEST_DKMS_ON:-another}, and the host built for this one"
	dkms_add
	# the compiles the host's DKMS build of the same files made are found
	# in the compiler cache (scripts/ccache.bash); the rest runs here
	# shellcheck source=scripts/ccache.bash
	. "$SHIKUMI_ROOT/scripts/ccache.bash"
	before=$(ccache_hits)
	run dkms install shikumi/0.1 -k "$KVER"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# compiles found in the compiler cache, of all: $(ccache_hits "$before")" >&3
	dkms status shikumi/0.1 -k "$KVER" | grep -q ': installed'
	modinfo -n shikumi_chrdev | grep -q '/updates/dkms/'
	modprobe shikumi_chrdev
	[ -c /dev/shikumi-chr0 ]
	modprobe -r shikumi_chrdev
	dkms remove shikumi/0.1 --all >/dev/null
}

@test "make sign: a throwaway key signs the modules, modinfo shows the signer" {
	local ko=$SHIKUMI_ROOT/build/kmod/$KVER/modules/chrdev/shikumi_chrdev.ko
	cp "$ko" "$BATS_TEST_TMPDIR/unsigned.ko"
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 1 \
		-subj "/CN=shikumi throwaway key/" \
		-keyout "$BATS_TEST_TMPDIR/key.pem" -out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	run make -s sign KEY="$BATS_TEST_TMPDIR/key.pem" CERT="$BATS_TEST_TMPDIR/cert.pem" KVER="$KVER"
	status_sign=$status
	signer=$(modinfo -F signer "$ko")
	hash=$(modinfo -F sig_hashalgo "$ko")
	# the signed module still loads (this kernel does not enforce signatures)
	insmod "$ko" && rmmod shikumi_chrdev
	cp "$BATS_TEST_TMPDIR/unsigned.ko" "$ko"
	[ "$status_sign" -eq 0 ]
	[ "$signer" = "shikumi throwaway key" ]
	[ "$hash" = sha256 ]
	[ -z "$(modinfo -F signer "$ko")" ]
}
