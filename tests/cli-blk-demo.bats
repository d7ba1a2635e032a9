#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi blk demo powercut (chapters 7 and 9): ext4 through torn power
# cuts, with barriers and with barrier=0.  The demo's claims are checked
# against fsck.ext4 and cksum(1) run here, on the file system it leaves
# behind, and against the block layer's own count of flushes.

load common

DISK=shikumi-ram0
DEV=/dev/$DISK
CTL=/sys/block/$DISK/shikumi

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mnt=
	reload_module shikumi_ramdisk size_mb=64
	udevadm settle 2>/dev/null || true
	[ -b "$DEV" ]
}

teardown() {
	local m
	if [[ -n $mnt ]]; then
		umount "$mnt" 2>/dev/null || true
		rmdir "$mnt" 2>/dev/null || true
	fi
	# a demo that died would leave its mount behind
	for m in $(findmnt -rn -S "$DEV" -o TARGET); do
		umount "$m" || true
	done
	if [[ -e $CTL/power ]]; then
		echo on >"$CTL/power" || true
	fi
	common_teardown
}

# the flushes the block layer completed on the disk (stat's 16th field)
flush_ios() {
	awk '{ print $16 }' "/sys/block/$DISK/stat"
}

# check_last_round JSON MODE: the demo's verdicts on its last round are
# fsck.ext4's and cksum's, run here on what it left
check_last_round() {
	local json=$1 mode=$2 r clean st name sum intact got
	r=".modes[] | select(.mode == \"$mode\") | .round[-1]"
	clean=$(jq "$r.fsck_clean" <<<"$json")
	st=0
	fsck.ext4 -fn "$DEV" >/dev/null 2>&1 || st=$?
	echo "# $mode: the demo's last fsck clean: $clean; fsck here: exit $st" >&3
	[ "$clean" = "$([ "$st" -eq 0 ] && echo true || echo false)" ]
	[ "$(jq "$r.mounted" <<<"$json")" = true ] || return 0
	mnt=$(mktemp -d)
	mount -o ro,noload "$DEV" "$mnt"
	while read -r name sum intact; do
		got=$(cksum <"$mnt/$name" 2>/dev/null | awk '{ print $1 }') || true
		if [[ $intact == true ]]; then
			[ "$got" = "$sum" ]
		else
			[ "$got" != "$sum" ]
		fi
	done < <(jq -r "$r.fsynced[] | \"\(.name) \(.cksum) \(.intact)\"" <<<"$json")
	umount "$mnt"
	rmdir "$mnt"
	mnt=
}

@test "shikumi blk demo powercut: with barriers every fsynced file survives the cuts and fsck is clean; with barrier=0 fsynced files are lost and fsck finds damage; cksum and fsck here agree" {
	f0=$(flush_ios)
	run shikumi blk demo powercut "$DISK" --rounds 2 --files 8 --mode barrier --json
	echo "$output"
	[ "$status" -eq 0 ]
	b=$output
	[ "$(jq '.modes[0].fsck_clean' <<<"$b")" -eq 2 ]
	[ "$(jq '.modes[0].fsynced_intact' <<<"$b")" -eq 16 ]
	# every fsync flushed: the block layer completed at least one flush
	# per fsynced file, and so did the disk count during the loads
	fb=$(($(flush_ios) - f0))
	[ "$fb" -ge 16 ]
	[ "$(jq '.modes[0].flushes' <<<"$b")" -ge 16 ]
	# each cut dropped something: the unsynced files were in the cache
	[ "$(jq '[.modes[0].round[].cut_sectors_dropped] | min' <<<"$b")" -gt 0 ]
	check_last_round "$b" barrier

	f0=$(flush_ios)
	run shikumi blk demo powercut "$DISK" --rounds 2 --files 8 --mode nobarrier --json
	echo "$output"
	[ "$status" -eq 0 ]
	n=$output
	# no flush, no FUA reached the disk during the loads: fsync did not
	# wait; the block layer saw only mkfs's (4 a round), none per fsync
	fn=$(($(flush_ios) - f0))
	echo "# flushes the block layer completed: $fb with barriers, $fn with barrier=0" >&3
	[ "$fn" -le 12 ]
	[ "$fn" -lt "$fb" ]
	[ "$(jq '.modes[0].flushes' <<<"$n")" -eq 0 ]
	[ "$(jq '.modes[0].fua_writes' <<<"$n")" -eq 0 ]
	lost=$(jq '.modes[0].fsynced - .modes[0].fsynced_intact' <<<"$n")
	nclean=$(jq '.modes[0].fsck_clean' <<<"$n")
	echo "# barrier=0: $lost of 16 fsynced files lost, fsck clean in $nclean of 2" >&3
	[ "$lost" -gt 0 ]
	# the checkpoint marked the journal empty before its metadata was
	# durable: fsck finds the damage (in 12 of 12 seeds tried, 1-6 twice)
	[ "$nclean" -lt 2 ]
	check_last_round "$n" nobarrier
	# the write cache and the power are as they were
	[ "$(cat "$CTL/write_cache")" = 0 ]
	[ "$(cat "$CTL/power")" = on ]
}

@test "shikumi blk demo powercut: the text report puts both side by side" {
	run shikumi blk demo powercut "$DISK" --rounds 1 --files 4
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"barriers (ext4's default)"*"barrier=0"* ]]
	[[ $output =~ fsck.ext4\ -fn\ clean\ +1\ of\ 1 ]]
	[[ $output =~ fsynced\ files\ intact\ +4\ of\ 4 ]]
	[[ $output =~ fsck.ext4\ -fn\ clean\ +1\ of\ 1\ +0\ of\ 1 ]]
}

@test "shikumi blk demo powercut: a disk with data, bad options, non-root: clear errors, nothing changed" {
	mkfs.ext4 -q -F -L mine "$DEV"
	run shikumi blk demo powercut "$DISK" --rounds 1
	[ "$status" -eq 1 ]
	[[ $output == *"holds data"*"blkdiscard -f $DEV"* ]]
	fsck.ext4 -fn "$DEV"
	[ "$(blkid -o value -s LABEL "$DEV")" = mine ]
	run shikumi blk demo powercut "$DISK" --rounds 0
	[ "$status" -eq 2 ]
	[[ $output == *"--rounds must be 1 to 64"* ]]
	run shikumi blk demo powercut "$DISK" --mode sometimes
	[ "$status" -eq 2 ]
	[[ $output == *"--mode: both, barrier or nobarrier"* ]]
	run shikumi blk demo powercut
	[ "$status" -eq 2 ]
	blkdiscard -f "$DEV"
	run as_user shikumi blk demo powercut "$DISK"
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	[ "$(cat "$CTL/power")" = on ]
}
