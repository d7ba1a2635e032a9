#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi tour: the book's experiments on the machine it is on.  One
# chapter's stops, two of them made impossible on purpose (THP off, the
# RAM disk mounted): each says why and the tour goes on, the others run
# and leave their plots where asked.  The whole tour runs from / after a
# package install in tests/install.bats.

load common

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' "$thp")
	mnt=
}

teardown() {
	echo "$thp_was" >"$thp"
	if [[ -n $mnt ]]; then
		umount "$mnt" 2>/dev/null || true
		rmdir "$mnt"
	fi
	common_teardown
}

@test "tour --chapter 4: the stops that cannot run here say why and the tour goes on; the others run and plot into -o DIR" {
	echo never >"$thp"
	reload_module shikumi_ramdisk size_mb=16
	mkfs.ext4 -q -F /dev/shikumi-ram0
	mnt=$(mktemp -d)
	mount /dev/shikumi-ram0 "$mnt"
	out=$BATS_TEST_TMPDIR/plots
	run shikumi tour --chapter 4 -o "$out"
	echo "$output"
	[ "$status" -eq 0 ]
	# chapter 4's stops only, each named with its chapter
	[[ $output == *"== Page tables: shikumi_ptdump walks any process's tables (chapter 4, 5)"* ]]
	[[ $output != *"(chapter 6"* && $output != *"(chapter 3"* ]]
	# skipped, with why: the disk is in use, THP is off (and the fix)
	[[ $output == *"== Swap: "*"skipped: /dev/shikumi-ram0 is mounted: the tour formats it"* ]]
	[[ $output == *"== Transparent huge pages (chapter 4)"*"skipped: transparent huge pages are off: echo madvise > $thp"* ]]
	[[ $output == *"Done"*": 2 stops ran, 2 skipped (Swap: "*"Transparent huge pages)"* ]]
	# the others ran: their plots are where -o said
	[ -s "$out/pt-demand.svg" ] && [ -s "$out/pt-sparse.svg" ]
	xmllint --noout "$out/pt-demand.svg"
	[ ! -e "$out/cache-swap.svg" ]
	# the disk and its file system were left alone
	findmnt -rn -S /dev/shikumi-ram0 >/dev/null
}

@test "tour: a chapter the book has not, an argument, --json, not root: clear errors" {
	run shikumi tour --chapter 2
	[ "$status" -eq 2 ]
	[[ $output == *"--chapter: the book's chapters 3 to 9, not 2"* ]]
	run shikumi tour extra
	[ "$status" -eq 2 ]
	run shikumi tour --json
	[ "$status" -eq 2 ]
	[[ $output == *"no JSON report"* ]]
	run as_user shikumi tour --chapter 3
	[ "$status" -eq 1 ]
	[[ $output == *"tour: needs root"* ]]
}
