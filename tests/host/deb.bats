#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the packages shikumi-dkms and shikumi, built the Debian way
# from a clean copy of the tree, lintian clean (scripts/deb fails on any
# warning), each holding what it should, at the version debian/changelog
# gives.  Installing them is tested in the guest (tests/install.bats).

setup_file() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	VER=$("$ROOT/scripts/version")
	OUT=$(mktemp -d)
	export ROOT VER OUT
	SHIKUMI_DEB_OUT=$OUT "$ROOT/scripts/deb" >"$OUT/log" 2>&1 || echo $? >"$OUT/failed"
}

teardown_file() {
	rm -rf "$OUT"
}

@test "make deb: dpkg-buildpackage from a clean tree, lintian clean" {
	cat "$OUT/log"
	[ ! -e "$OUT/failed" ]
	[ -f "$OUT/shikumi-dkms_${VER}_all.deb" ]
	[ -f "$OUT/shikumi_${VER}_amd64.deb" ]
	[ "$(dpkg-deb -f "$OUT/shikumi_${VER}_amd64.deb" Version)" = "$VER" ]
	[ "$(dpkg-deb -f "$OUT/shikumi-dkms_${VER}_all.deb" Version)" = "$VER" ]
}

@test "make deb: shikumi-dkms holds the modules' sources and a dkms.conf at the package's version" {
	local d=$BATS_TEST_TMPDIR/dkms f
	dpkg-deb -x "$OUT/shikumi-dkms_${VER}_all.deb" "$d"
	src=$d/usr/src/shikumi-$VER
	grep -qx "PACKAGE_VERSION=\"$VER\"" "$src/dkms.conf"
	[ -f "$src/Kbuild" ] && [ -x "$src/scripts/kfeatures" ]
	# every module source git knows, and nothing else of the tree
	for f in $(git -C "$ROOT" ls-files include modules); do
		cmp "$ROOT/$f" "$src/$f"
	done
	[ "$(find "$src" -type f | wc -l)" -eq "$(($(git -C "$ROOT" ls-files include modules | wc -l) + 3))" ]
	# dkms runs at install and removal
	dpkg-deb -e "$OUT/shikumi-dkms_${VER}_all.deb" "$d/ctl"
	for f in postinst prerm; do
		grep -qx 'DKMS_NAME=shikumi' "$d/ctl/$f"
		grep -qx "DKMS_VERSION=$VER" "$d/ctl/$f"
	done
	grep -q '/usr/lib/dkms/common.postinst' "$d/ctl/postinst"
	grep -q 'dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all' "$d/ctl/prerm"
	dpkg-deb -f "$OUT/shikumi-dkms_${VER}_all.deb" Depends | grep -q dkms
}

@test "make deb: shikumi holds the CLI at that version, its manual pages, bash completion and the tour" {
	local d=$BATS_TEST_TMPDIR/cli p
	dpkg-deb -x "$OUT/shikumi_${VER}_amd64.deb" "$d"
	run "$d/usr/bin/shikumi" --version
	[ "$status" -eq 0 ]
	[[ $output == "shikumi $VER"* ]]
	for p in shikumi shikumi-chr shikumi-blk shikumi-pt shikumi-sched shikumi-cache; do
		[ -f "$d/usr/share/man/man1/$p.1.gz" ]
	done
	for p in "$ROOT"/doc/man/*.4; do
		[ -f "$d/usr/share/man/man4/${p##*/}.gz" ]
	done
	[ -f "$d/usr/share/bash-completion/completions/shikumi" ]
	# the tour, where `shikumi tour` looks for it
	[ -x "$d/usr/share/shikumi/tour" ]
	grep -aq '/usr/share/shikumi' "$d/usr/bin/shikumi"
	dpkg-deb -f "$OUT/shikumi_${VER}_amd64.deb" Depends | grep -q libkmod
}

# next_version DIR: shikumi-dkms of the next version (VER.1) in DIR, built
# as scripts/deb builds, from a copy of the tree whose changelog has one
# entry more; shikumi-dkms alone (dpkg-buildpackage -A)
next_version() {
	local src=$1/shikumi-$VER.1 cl=$ROOT/debian/changelog
	mkdir -p "$src"
	git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
		(cd "$ROOT" && tar --null -T - -c) | tar -x -C "$src"
	{
		printf 'shikumi (%s.1) unstable; urgency=medium\n\n' "$VER"
		printf '  * The next version, as a lab machine gets it.\n\n'
		printf ' -- %s  %s\n\n' "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$cl" | head -n 1)" \
			"$(date -R)"
		cat "$cl"
	} >"$src/debian/changelog"
	(cd "$src" && dpkg-buildpackage -us -uc -A) >"$1/log" 2>&1 || { cat "$1/log"; false; }
	[ -f "$1/shikumi-dkms_$VER.1_all.deb" ]
}

# In an overlay of the sid root, so that the 7.x guests, which read its
# /lib/modules, never see a change: install shikumi-dkms with apt, as on
# a machine running 7.x, upgrade it to the next version, then purge it.
# (The 7.x guest installs both packages in turn with the other kernels:
# tests/install.bats.)
@test "make deb: on 7.x (an overlay of the sid root), apt install builds and installs through DKMS; an upgrade replaces the modules; apt purge leaves nothing" {
	local sid=${SHIKUMI_SID_ROOT:-/var/cache/shikumi/sid-root} o=$BATS_TEST_TMPDIR/ov
	[ -e "$sid/.shikumi-ready" ] || skip "no sid root (scripts/sid-root)"
	mkdir -p "$o/upper/tmp" "$o/work" "$o/root"
	cp "$OUT/shikumi-dkms_${VER}_all.deb" "$o/upper/tmp/"
	next_version "$BATS_TEST_TMPDIR/next"
	cp "$BATS_TEST_TMPDIR/next/shikumi-dkms_${VER}.1_all.deb" "$o/upper/tmp/"
	# the compiles are found in the sid root's compiler cache, which
	# scripts/dkms-check fills (its writes stay in the overlay)
	# shellcheck source=scripts/ccache.bash
	. "$ROOT/scripts/ccache.bash"
	run unshare -m -- sh -c '
		set -e
		sid=$1 o=$2 ver=$3
		mount -t overlay overlay -o "lowerdir=$sid,upperdir=$o/upper,workdir=$o/work" "$o/root"
		mount -t proc proc "$o/root/proc"
		inroot() { chroot "$o/root" env DEBIAN_FRONTEND=noninteractive "$@"; }
		kver=$(ls "$o/root/lib/modules" | grep "^7\." | sort -V | tail -n 1)
		inroot apt-get install -y --no-install-recommends "/tmp/shikumi-dkms_${ver}_all.deb"
		echo "status: $(inroot dkms status "shikumi/$ver" -k "$kver")"
		echo "modules: $(find "$o/root/lib/modules/$kver" -name "shikumi_*" | wc -l)"
		ko=/lib/modules/$kver/updates/dkms/shikumi_ramdisk.ko.xz
		inroot modinfo -F vermagic "$ko" | sed "s/^/vermagic: /"
		echo "version: $(inroot modinfo -F version "$ko")"
		inroot apt-get install -y --no-install-recommends "/tmp/shikumi-dkms_${ver}.1_all.deb"
		echo "upgraded: $(inroot dkms status shikumi | tr "\n" ";")"
		echo "upgraded version: $(inroot modinfo -F version "$ko")"
		echo "old sources: $(ls -d "$o/root/usr/src/shikumi-$ver" 2>/dev/null | wc -l)"
		inroot apt-get purge -y shikumi-dkms
		echo "left: $(find "$o/root/lib/modules" "$o/root/usr/src" "$o/root/var/lib/dkms" \
			-name "shikumi*" | wc -l)"
	' sh "$sid" "$o" "$VER"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"status: shikumi/$VER, 7."*": installed"* ]]
	[[ $output == *"modules: 5"* ]]
	[[ $output == *"vermagic: 7."* ]]
	[[ $output == *"version: $VER"$'\n'* ]]
	# the upgrade: the old version's modules, DKMS tree and sources gone
	[[ $output == *"upgraded: shikumi/$VER.1, 7."*": installed;"$'\n'* ]]
	[[ $output != *"upgraded: "*"shikumi/$VER,"* ]]
	[[ $output == *"upgraded version: $VER.1"* ]]
	[[ $output == *"old sources: 0"* ]]
	[[ $output == *"left: 0"* ]]
}
