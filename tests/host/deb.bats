#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the packages shikumi-dkms and shikumi, built the Debian way
# from a clean copy of the tree, lintian clean (scripts/deb fails on any
# warning), each holding what it should, at the version debian/changelog
# gives.  Installing them is tested in the guest (tests/package.bats).

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
