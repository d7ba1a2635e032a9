#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Installation inside the guest, whose root is a throwaway overlay:
# make install + depmod + modprobe, `shikumi load` outside the tree, DKMS
# (refusal of unsupported kernels), the Debian packages (apt install
# builds through DKMS, for a kernel installed later too; load, doctor and
# the tour from /; apt purge) and module signing with a throwaway key.
#
#   SHIKUMI_TEST_DKMS=skip	skip the package install and its DKMS build
#				(scripts/check under CI installs on one kernel
#				per run, in turn; SHIKUMI_TEST_DKMS_ON names it)
#   SHIKUMI_KROOT		the root the kernel came from, when not / (the
#				lab sets it: 7.x's sid root), where the package
#				is installed when / has no headers for it

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
	[[ -z ${SHIKUMI_KROOT:-} ]] ||
		umount -R -l "$SHIKUMI_KROOT"/{lib/modules/"$KVER",tmp,dev,sys,proc} 2>/dev/null || true
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

	# an installed module of another version than the CLI, as a package
	# upgrade of one and not the other leaves: doctor names it, and how
	# to get the modules of this version
	ko=/lib/modules/$KVER/updates/shikumi/shikumi_chrdev.ko
	other=$(other_version_ko "$ko" "$BATS_TEST_TMPDIR/other.ko")
	cp "$BATS_TEST_TMPDIR/other.ko" "$ko"
	run /usr/local/bin/shikumi doctor --json
	echo "$output"
	[ "$(doctor_verdict version)" = warn ]
	[ "$(jq -r '.checks[] | select(.id == "version") | .what' <<<"$output")" = \
		"not this shikumi's version, $VER: shikumi_chrdev $other" ]
	[ "$(doctor_fix version)" = "apt install shikumi-dkms (or, in the source tree: make install)" ]
	run /usr/local/bin/shikumi status --json
	[ "$(jq -r '.modules[0].version' <<<"$output")" = "$other" ]
	rm -rf "/lib/modules/$KVER/updates/shikumi"
}

# "HITS CALLS" of the compiler cache so far; with "HITS CALLS" of before,
# the difference since
ccache_hits() {
	"${IN[@]}" sh -c 'command -v ccache' >/dev/null || { echo "0 0 (no ccache)"; return; }
	"${IN[@]}" ccache --print-stats | awk -v before="${1:-0 0}" '
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

# The machine the package is installed on: this guest's root, with the
# running kernel's headers; or, for a kernel whose headers need another
# distribution's compiler (7.x, from the sid root: scripts/sid-root), the
# root the kernel came from, entered with chroot as the machine's own
# userspace.  The guest's /proc, /sys (debugfs, tracefs), /dev and /tmp,
# and the running kernel's module tree, are bound into it; everything it
# writes goes to the guest's throwaway overlay.  Sets ROOT (the root's
# path, empty for /) and IN (the command prefix that runs there).
package_machine() {
	local kr=${SHIKUMI_KROOT:-} b m
	ROOT= IN=(env)
	[ -e "/lib/modules/$KVER/build/Makefile" ] && return 0
	[[ -n $kr ]] || return 1
	b=$(readlink "$kr/lib/modules/$KVER/build") || return 1
	[[ $b == /* ]] || b=/lib/modules/$KVER/$b
	[ -e "$kr$b/Makefile" ] || return 1
	# (slaves: unmounting the copies must not unmount the originals)
	for m in proc sys dev tmp; do
		mount --rbind "/$m" "$kr/$m"
		mount --make-rslave "$kr/$m"
	done
	mount --bind "/lib/modules/$KVER" "$kr/lib/modules/$KVER"
	ROOT=$kr
	# (the compiler cache's settings are scripts/ccache.bash's)
	IN=(chroot "$kr" env -i PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin
		HOME=/root LANG=C.UTF-8 TERM=dumb CCACHE_DIR=/var/cache/shikumi/ccache
		CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=2G)
	echo "# the machine: $kr, $(. "$kr/etc/os-release" && echo "$PRETTY_NAME"), gcc $("${IN[@]}" gcc -dumpfullversion)" >&3
}

package_machine_leave() {
	[[ -n ${ROOT:-} ]] || return 0
	umount -R -l "$ROOT/lib/modules/$KVER" "$ROOT/tmp" "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"
	ROOT=
}

# Every file the packages hold, and the trees DKMS makes of them: none
# may be left after a purge.
package_leftovers() {
	local deb f
	for deb in "$DEBS"/shikumi-dkms_"$VER"_all.deb "$DEBS"/shikumi_"$VER"_amd64.deb; do
		dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n 's|^\./|/|; \|[^/]$|p'
	done | while read -r f; do
		[[ ! -e $ROOT$f ]] || echo "$f"
	done
	find "$ROOT/usr/src" "$ROOT/var/lib/dkms" -maxdepth 1 -name 'shikumi*' 2>/dev/null
	find "$ROOT"/lib/modules/ -name 'shikumi_*.ko*' 2>/dev/null
	"${IN[@]}" dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' shikumi shikumi-dkms 2>/dev/null |
		grep -v '^[up]n ' || true
}

# The newest installed kernel (by its /boot/config, as DKMS finds it)
# when that is not the running one and has headers: the kernel that
# stands for one installed later, or empty
later_kernel() {
	local k
	k=$(ls "$ROOT"/boot/config-* 2>/dev/null | sed 's|.*/config-||' | sort -V | tail -n 1)
	[[ -n $k && $k != "$KVER" && -e $ROOT/lib/modules/$k/build/Makefile ]] && echo "$k"
	true
}

# The installed modules, CLI, doctor and tour, from / of the machine
package_use() {
	local cn mod
	dkms_installed "$KVER"
	mod=$("${IN[@]}" modinfo -n shikumi_ramdisk)
	[ "$ROOT$mod" = "$(ls "$ROOT/lib/modules/$KVER"/updates/dkms/shikumi_ramdisk.ko*)" ]
	# signed as Debian's DKMS signs, with its MOK key: the signer is the
	# certificate's subject
	cn=$(openssl x509 -inform DER -in "$ROOT/var/lib/dkms/mok.pub" -noout -subject | sed 's/.*CN *= *//')
	[ "$("${IN[@]}" modinfo -F signer "$mod")" = "$cn" ]
	# doctor sees the same: DKMS's modules, all signed
	run "${IN[@]}" /usr/bin/shikumi doctor --json
	echo "$output"
	[[ $(jq -r '.checks[] | select(.id == "modules") | .what' <<<"$output") == *"/updates/dkms (DKMS)" ]]
	[[ $(jq -r '.checks[] | select(.id == "signature") | .what' <<<"$output") == *"; 5 of 5 signed" ]]
	[ "$(doctor_verdict version)" = ok ]
	# the packaged CLI with the packaged modules
	[[ $("${IN[@]}" /usr/bin/shikumi --version) == "shikumi $VER"* ]]
	run "${IN[@]}" /usr/bin/shikumi load chrdev ramdisk
	[ "$status" -eq 0 ]
	[ -c /dev/shikumi-chr0 ] && [ -b /dev/shikumi-ram0 ]
	run "${IN[@]}" /usr/bin/shikumi status --json
	[ "$(jq -r '[.modules[].source] | unique | join(",")' <<<"$output")" = installed ]
	[[ $(jq -r '.modules[0].path' <<<"$output") == /lib/modules/$KVER/updates/dkms/* ]]
	run "${IN[@]}" /usr/bin/shikumi unload chrdev ramdisk
	[ "$status" -eq 0 ]
	# the installed tour: chapter 6's stops, with the installed modules,
	# its plots where asked
	run "${IN[@]}" /usr/bin/shikumi tour --chapter 6 -o "$BATS_TEST_TMPDIR/tour"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"(chapter 6)"*"Done"*": 3 stops ran"* ]]
	[ -s "$BATS_TEST_TMPDIR/tour/chr-sweep.svg" ]
	[[ $(jq -r '.modules[] | select(.name == "shikumi_chrdev") | .path' \
		<<<"$("${IN[@]}" /usr/bin/shikumi status --json)") == /lib/modules/$KVER/updates/dkms/* ]]
	"${IN[@]}" /usr/bin/shikumi unload >/dev/null
	[ -f "$ROOT/usr/share/man/man1/shikumi-blk.1.gz" ]
}

# dkms_installed KVER: DKMS built and installed shikumi for KVER, and its
# modules carry that kernel's vermagic and the package's version
dkms_installed() {
	local ko
	"${IN[@]}" dkms status "shikumi/$VER" -k "$1" | grep -q ': installed'
	ko=$(cd "$ROOT/lib/modules/$1/updates/dkms" && ls shikumi_chrdev.ko*)
	[[ $("${IN[@]}" modinfo -F vermagic "/lib/modules/$1/updates/dkms/$ko") == "$1 "* ]]
	[ "$("${IN[@]}" modinfo -F version "/lib/modules/$1/updates/dkms/$ko")" = "$VER" ]
}

@test "package: apt install builds through DKMS for the running kernel, a kernel installed later gets them from DKMS's hook; load, doctor and the tour from /; apt purge leaves nothing" {
	DEBS=$SHIKUMI_ROOT/build/deb
	# gcc in a TCG guest of the debug kernel took over 15 minutes for this
	! debug_kernel ||
		skip "compiling on the debug kernel is too slow; DKMS is proven on Debian's kernels and on the host"
	# CI installs in the guest on one kernel per run, in turn
	# (scripts/check); the host builds for all of them (tests/host/dkms.bats)
	[[ ${SHIKUMI_TEST_DKMS:-} != skip ]] ||
		skip "the in-guest package install rotates over the kernels; this run's is on ${SHIKUMI_TEST_DKMS_ON:-another}, and the host built for this one"
	if [[ ! -f $DEBS/shikumi-dkms_${VER}_all.deb ]]; then
		# scripts/check builds them before the guests boot
		[[ -z ${SHIKUMI_TEST_DKMS_ON:-} ]] || false
		skip "no packages in build/deb: make deb"
	fi
	package_machine ||
		skip "no headers for $KVER here, nor in a root it came from (built on the host: tests/host/dkms.bats)"
	[ -z "$(package_leftovers)" ]
	cp "$DEBS/shikumi-dkms_${VER}_all.deb" "$DEBS/shikumi_${VER}_amd64.deb" "$BATS_TEST_TMPDIR/"
	chmod 755 "$BATS_TEST_TMPDIR"
	# the compiles the host's DKMS builds of the same files made are found
	# in the compiler cache (scripts/ccache.bash); the rest runs here
	path=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin
	if [[ -z $ROOT ]]; then
		# shellcheck source=scripts/ccache.bash
		. "$SHIKUMI_ROOT/scripts/ccache.bash"
		path=$PATH
	fi
	before=$(ccache_hits)
	# man-db's trigger would index every manual page under TCG
	rm -f "$ROOT/var/lib/man-db/auto-update"
	# a kernel installed later: its headers come after the package
	later=$(later_kernel)
	[[ -z $later ]] || mv "$ROOT/lib/modules/$later/build" "$BATS_TEST_TMPDIR/later-build"
	cd /
	t0=$SECONDS
	# apt gives dpkg's scripts a PATH of its own: the compiler cache's too
	run "${IN[@]}" DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Path="$path" \
		install -y --no-install-recommends \
		"$BATS_TEST_TMPDIR/shikumi-dkms_${VER}_all.deb" "$BATS_TEST_TMPDIR/shikumi_${VER}_amd64.deb"
	echo "$output"
	[[ -z $later ]] || mv "$BATS_TEST_TMPDIR/later-build" "$ROOT/lib/modules/$later/build"
	[ "$status" -eq 0 ]
	echo "# apt install: $((SECONDS - t0)) s${ROOT:+ in $ROOT}; compiles found in the compiler cache, of all: $(ccache_hits "$before")" >&3
	package_use
	if [[ -n $later ]]; then
		# not built for the kernel without headers; then its headers
		# package's postinst runs the kernel's hooks, and DKMS's builds
		! "${IN[@]}" dkms status "shikumi/$VER" -k "$later" | grep -q ': installed'
		t0=$SECONDS
		run "${IN[@]}" PATH="$path" run-parts --report --exit-on-error \
			--arg="$later" /etc/kernel/header_postinst.d
		echo "$output"
		[ "$status" -eq 0 ]
		dkms_installed "$later"
		echo "# $later, installed later: DKMS's kernel hook built for it in $((SECONDS - t0)) s" >&3
	fi

	t0=$SECONDS
	run "${IN[@]}" DEBIAN_FRONTEND=noninteractive apt-get purge -y shikumi shikumi-dkms
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# apt purge: $((SECONDS - t0)) s" >&3
	left=$(package_leftovers)
	echo "$left"
	[ -z "$left" ]
	! "${IN[@]}" modinfo -n shikumi_chrdev 2>/dev/null
	package_machine_leave
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
