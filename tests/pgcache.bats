#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi_pgcache: a file's cached pages against mincore(2) and cachestat(2),
# mapped pages' PFNs and flags against /proc/PID/pagemap and
# /proc/kpageflags, dirty pages against /proc/meminfo, the block device's
# own cache, the text views, bad queries, and truncation and eviction
# during a dump.  build/bin/shikumi-pgctest (tests/helpers/pgctest.c) does
# the comparisons, each in one process.

load common

DBG=/sys/kernel/debug/shikumi/pgcache
CACHE=$DBG/cache
DISK=/dev/shikumi-ram0

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	module_loaded shikumi_pgcache || shikumi load shikumi_pgcache
	mnt=
}

teardown() {
	{ exec 7>&- 8>&-; } 2>/dev/null || true
	[[ -z $mnt ]] || umount "$mnt" 2>/dev/null || true
	common_teardown
}

# An ext4 file system on a fresh shikumi disk, mounted at $mnt
fresh_fs() {
	reload_module shikumi_ramdisk size_mb=64
	udevadm settle 2>/dev/null || true
	[ -b "$DISK" ]
	mkfs.ext4 -q -F "$DISK"
	mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	mount "$DISK" "$mnt"
}

# summary KEY [FILE]: a value of view=summary for FILE
summary() {
	exec 8<"${2:-$f}" 7<>"$CACHE"
	echo "fd=8 view=summary" >&7
	awk -v k="$1" '$1 == k { print $2 }' <&7
	exec 7>&- 8<&-
}

@test "pgcache: a file's cached pages are mincore's and cachestat's: after drop_caches, partial reads, a whole read" {
	fresh_fs
	f=$mnt/data
	# 1 MiB and a partial page
	dd if=/dev/urandom of="$f" bs=4097 count=256 status=none
	sync
	echo 3 >/proc/sys/vm/drop_caches
	run shikumi-pgctest resident "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"resident: 0 of 257 pages cached"* ]]
	# two ranges, read in pieces: readahead may add neighbours, the
	# oracle sees those too
	dd if="$f" of=/dev/null bs=4k skip=10 count=3 status=none
	dd if="$f" of=/dev/null bs=4k skip=200 count=1 status=none
	run shikumi-pgctest resident "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *"resident: 0 of"* ]]
	cat "$f" >/dev/null
	run shikumi-pgctest resident "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"resident: 257 of 257 pages cached"* ]]
	[ "$(summary cached_pages)" -eq 257 ]
	[ "$(summary file_pages)" -eq 257 ]
	echo 3 >/proc/sys/vm/drop_caches
	[ "$(summary cached_pages)" -eq 0 ]
}

@test "pgcache: mapped pages' PFNs and flags are pagemap's and kpageflags'; written ones dirty and mapped" {
	fresh_fs
	f=$mnt/mapped
	dd if=/dev/urandom of="$f" bs=4k count=64 status=none
	run shikumi-pgctest flags "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"flags: 32 mapped pages, 0 differ"* ]]
}

@test "pgcache: buffered writes leave dirty pages, as many as /proc/meminfo's Dirty grew by; fsync cleans them" {
	fresh_fs
	run shikumi-pgctest dirty "$mnt/dirty" 512
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"the view: 512 dirty"* || $output == *"writeback"* ]]
	[[ $output == *"after fsync 0 dirty, 0 writeback"* ]]
}

@test "pgcache: reading the disk itself fills its own cache (the buffer cache) while the disk is open, as mincore sees it" {
	reload_module shikumi_ramdisk size_mb=16
	udevadm settle 2>/dev/null || true
	[ -b "$DISK" ]
	echo 3 >/proc/sys/vm/drop_caches
	# the last close of a block device drops its cache (kill_bdev()): hold it
	exec 8<"$DISK"
	dd if="$DISK" of=/dev/null bs=4k skip=1000 count=8 status=none
	run shikumi-pgctest resident "$DISK"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output =~ resident:\ ([0-9]+)\ of\ 4096 ]]
	[ "${BASH_REMATCH[1]}" -ge 8 ]
	exec 8<&-
	run shikumi-pgctest resident "$DISK"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"resident: 0 of 4096"* ]]
}

@test "pgcache: a tmpfs with huge=always caches 2 MiB folios: one record each, heads and tails as pagemap and kpageflags see them" {
	mnt=$BATS_TEST_TMPDIR/huge
	mkdir -p "$mnt"
	mount -t tmpfs -o huge=always,size=16m shikumi-huge "$mnt"
	run shikumi-pgctest large "$mnt/file" 4
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# $output" >&3
	f=$mnt/file
	[ "$(summary large_folios)" -eq 2 ]
	[ "$(summary folios)" -eq 2 ]
	[ "$(summary cached_pages)" -eq 1024 ]
}

@test "pgcache: the text view lists each folio once, and its totals are the summary's" {
	fresh_fs
	f=$mnt/text
	dd if=/dev/urandom of="$f" bs=4k count=100 status=none
	sync
	exec 8<"$f" 7<>"$CACHE"
	echo "fd=8" >&7
	out=$(cat <&7)
	exec 7>&- 8<&-
	echo "$out" | head -5
	[ "$(head -n 1 <<<"$out" | cut -d: -f2-)" = " 409600 bytes, 100 pages" ]
	# one line per folio: index, pages, pfn, mapcount, flags
	lines=$(grep -vc '^#' <<<"$out")
	[ "$lines" -eq "$(summary folios)" ]
	pages=$(awk '!/^#/ { s += $2 } END { print s }' <<<"$out")
	[ "$pages" -eq "$(summary cached_pages)" ]
	[ "$pages" -eq 100 ]
	[[ $(tail -n 1 <<<"$out") == "# 100 pages cached in "* ]]
	grep -v '^#' <<<"$out" | grep -q 'uptodate'
	# the PFNs are hex, and no kernel address is ever printed
	! grep -qE '0xffff[0-9a-f]{12}' <<<"$out"
}

@test "pgcache: bad queries fail with their errno and keep the old one; a user is refused" {
	fresh_fs
	f=$mnt/q
	echo hello >"$f"
	exec 7<>"$CACHE"
	! echo "fd=200" >&7 2>"$BATS_TEST_TMPDIR/err"
	grep -q "Bad file descriptor" "$BATS_TEST_TMPDIR/err"
	# read before any query
	run cat <&7
	[[ $output == *"Invalid argument"* ]]
	exec 8<"$mnt"
	! echo "fd=8" >&7 2>"$BATS_TEST_TMPDIR/err"
	grep -q "Is a directory" "$BATS_TEST_TMPDIR/err"
	exec 8</dev/null
	! echo "fd=8" >&7 2>"$BATS_TEST_TMPDIR/err"
	grep -q "Block device required" "$BATS_TEST_TMPDIR/err"
	exec 8<"$f"
	for q in "fd=8 view=nope" "fd=8 format=raw view=summary" "fd=8 range=10-5" \
		"fd=8 bogus=1" "view=folios" "fd=-1"; do
		! echo "$q" >&7 2>/dev/null
	done
	echo "fd=8 view=summary" >&7
	grep -q '^cached_pages 1$' <&7
	exec 7>&- 8<&-
	# root only, and the capability too
	[ "$(stat -c %a "$CACHE")" = 600 ]
	run as_user cat "$CACHE"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
}

@test "pgcache: truncation, rewriting and eviction while the view is read: every read well-formed" {
	fresh_fs
	run shikumi-pgctest churn "$mnt/churn" 5
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"all well-formed: yes"* ]]
}

@test "shikumi cache show: text and JSON agree with the module's summary and with fincore; bad paths get clear errors" {
	fresh_fs
	f=$mnt/show
	dd if=/dev/urandom of="$f" bs=4k count=200 status=none
	sync
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$f" of=/dev/null bs=4k count=50 status=none
	run shikumi cache show --json "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	cached=$(jq .cached <<<"$output")
	[ "$cached" -eq "$(summary cached_pages)" ]
	[ "$cached" -eq "$(fincore -n -o PAGES "$f" | tr -d ' ')" ]
	[ "$(jq .pages <<<"$output")" -eq 200 ]
	[ "$(jq '[.cache[].pages] | add' <<<"$output")" -eq "$cached" ]
	run shikumi cache show "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[1]} =~ ^\ \ cached\ +$cached\ pages ]]
	run shikumi cache show -f -r 0-8192 "$f"
	[ "$status" -eq 0 ]
	[ "$(grep -c uptodate <<<"$output")" -eq 2 ]
	run shikumi cache show "$mnt/nonexistent"
	[ "$status" -eq 1 ]
	[[ $output == *"cannot open $mnt/nonexistent: No such file or directory"* ]]
	run shikumi cache show "$mnt"
	[ "$status" -eq 1 ]
	[[ $output == *"is a directory"* ]]
	run bash -c 'shikumi cache show --json /dev/null 2>/dev/null'
	[ "$status" -eq 1 ]
	[[ $(jq -r .error <<<"$output") == *"neither a regular file nor a block device"* ]]
	run shikumi cache show -r 5-1 "$f"
	[ "$status" -eq 2 ]
}
