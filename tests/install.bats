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
	VER=$("$SHIKUMI_ROOT/scripts/version")
	export KVER VER
	mkdir -p "$BATS_FILE_TMPDIR/index"
	cp -a "/lib/modules/$KVER"/modules.* "$BATS_FILE_TMPDIR/index/"
}

teardown_file() {
	modprobe -r shikumi_chrdev 2>/dev/null || true
	rm -rf "/lib/modules/$KVER/updates/shikumi" /usr/local/bin/shikumi
	dkms remove "shikumi/$VER" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/shikumi-$VER" /lib/modules/5.10.0-30-amd64
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

# the sources as the package lays them out (scripts/dkms-source)
dkms_add() {
	dkms remove "shikumi/$VER" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/shikumi-$VER"
	"$SHIKUMI_ROOT/scripts/dkms-source" "/usr/src/shikumi-$VER"
	dkms add "shikumi/$VER" >/dev/null
}

@test "dkms: a kernel older than 6.1 is refused by BUILD_EXCLUSIVE" {
	dkms_add
	mkdir -p /lib/modules/5.10.0-30-amd64/build/include
	run dkms build "shikumi/$VER" -k 5.10.0-30-amd64
	dkms remove "shikumi/$VER" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/shikumi-$VER" /lib/modules/5.10.0-30-amd64
	[ "$status" -ne 0 ]
	[[ $output == *"BUILD_EXCLUSIVE directive which does not match this kernel"* ]]
}

# Every file the packages hold, and the trees DKMS makes of them: none
# may be left after a purge.
package_leftovers() {
	local deb f
	for deb in "$DEBS"/shikumi-dkms_"$VER"_all.deb "$DEBS"/shikumi_"$VER"_amd64.deb; do
		dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n 's|^\./|/|; \|[^/]$|p'
	done | while read -r f; do
		[[ ! -e $f ]] || echo "$f"
	done
	find /usr/src /var/lib/dkms -maxdepth 1 -name 'shikumi*' 2>/dev/null
	find /lib/modules -name 'shikumi_*.ko*' 2>/dev/null
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' shikumi shikumi-dkms 2>/dev/null |
		grep -v '^[up]n ' || true
}

@test "package: apt install builds the modules through DKMS for this kernel (and the newest); shikumi load and the tour from /; apt purge leaves nothing" {
	DEBS=$SHIKUMI_ROOT/build/deb
	[ -e "/lib/modules/$KVER/build/Makefile" ] ||
		skip "no headers for $KVER in the guest (built on the host: tests/host/dkms.bats)"
	# gcc in a TCG guest of the debug kernel took over 15 minutes for this
	! debug_kernel ||
		skip "compiling on the debug kernel is too slow; DKMS is proven on Debian's kernels and on the host"
	# CI builds in the guest on one of Debian's kernels per run, in turn
	# (scripts/check); the host builds for all of them (tests/host/dkms.bats)
	[[ ${SHIKUMI_TEST_DKMS:-} != skip ]] ||
		skip "the in-guest DKMS build rotates over the kernels; this run's is on ${SHIKUMI_TEST_DKMS_ON:-another}, and the host built for this one"
	if [[ ! -f $DEBS/shikumi-dkms_${VER}_all.deb ]]; then
		# scripts/check builds them before the guests boot
		[[ -z ${SHIKUMI_TEST_DKMS_ON:-} ]] || false
		skip "no packages in build/deb: make deb"
	fi
	[ -z "$(package_leftovers)" ]
	# the compiles the host's DKMS builds of the same files made are found
	# in the compiler cache (scripts/ccache.bash); the rest runs here
	# shellcheck source=scripts/ccache.bash
	. "$SHIKUMI_ROOT/scripts/ccache.bash"
	before=$(ccache_hits)
	# man-db's trigger would index every manual page under TCG
	rm -f /var/lib/man-db/auto-update
	cd /
	t0=$SECONDS
	# apt gives dpkg's scripts a PATH of its own: the compiler cache's too
	run env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Path="$PATH" \
		install -y --no-install-recommends \
		"$DEBS/shikumi-dkms_${VER}_all.deb" "$DEBS/shikumi_${VER}_amd64.deb"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# apt install: $((SECONDS - t0)) s; compiles found in the compiler cache, of all: $(ccache_hits "$before")" >&3
	# built and installed by DKMS for the running kernel, and for the
	# newest installed kernel when that is another (DKMS's autoinstall)
	dkms status "shikumi/$VER" -k "$KVER" | grep -q ': installed'
	newest=$(ls /lib/modules | grep -E '^[0-9]' | sort -V | tail -n 1)
	if [[ $newest != "$KVER" && -e /lib/modules/$newest/build/Makefile ]]; then
		dkms status "shikumi/$VER" -k "$newest" | grep -q ': installed'
		echo "# also built for $newest, the newest installed kernel" >&3
	fi
	[ "$(modinfo -n shikumi_ramdisk)" = "$(ls /lib/modules/"$KVER"/updates/dkms/shikumi_ramdisk.ko*)" ]
	# signed as Debian's DKMS signs, with its MOK key: the signer is the
	# certificate's subject
	cn=$(openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -subject | sed 's/.*CN *= *//')
	[ "$(modinfo -F signer "$(modinfo -n shikumi_ramdisk)")" = "$cn" ]
	# doctor, from /, sees the same: DKMS's modules, all signed
	run /usr/bin/shikumi doctor --json
	echo "$output"
	[[ $(jq -r '.checks[] | select(.id == "modules") | .what' <<<"$output") == *"/updates/dkms (DKMS)" ]]
	[[ $(jq -r '.checks[] | select(.id == "signature") | .what' <<<"$output") == *"; 5 of 5 signed" ]]
	# the packaged CLI, from /, with the packaged modules
	[[ $(/usr/bin/shikumi --version) == "shikumi $VER"* ]]
	run /usr/bin/shikumi load chrdev ramdisk
	[ "$status" -eq 0 ]
	[ -c /dev/shikumi-chr0 ] && [ -b /dev/shikumi-ram0 ]
	run /usr/bin/shikumi status --json
	[ "$(jq -r '[.modules[].source] | unique | join(",")' <<<"$output")" = installed ]
	[[ $(jq -r '.modules[0].path' <<<"$output") == /lib/modules/$KVER/updates/dkms/* ]]
	run /usr/bin/shikumi unload chrdev ramdisk
	[ "$status" -eq 0 ]
	# the installed tour, from /: chapter 6's stops, with the installed
	# modules, its plots where asked
	run /usr/bin/shikumi tour --chapter 6 -o "$BATS_TEST_TMPDIR/tour"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"(chapter 6)"*"Done"*": 3 stops ran"* ]]
	[ -s "$BATS_TEST_TMPDIR/tour/chr-sweep.svg" ]
	[[ $(jq -r '.modules[] | select(.name == "shikumi_chrdev") | .path' \
		<<<"$(/usr/bin/shikumi status --json)") == /lib/modules/$KVER/updates/dkms/* ]]
	/usr/bin/shikumi unload >/dev/null
	man -w shikumi-blk >/dev/null 2>&1 || [ -f /usr/share/man/man1/shikumi-blk.1.gz ]

	t0=$SECONDS
	run env DEBIAN_FRONTEND=noninteractive apt-get purge -y shikumi shikumi-dkms
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# apt purge: $((SECONDS - t0)) s" >&3
	left=$(package_leftovers)
	echo "$left"
	[ -z "$left" ]
	! modinfo -n shikumi_chrdev 2>/dev/null
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
