#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Security: every user-space interface of the five modules, in one place.
#
#  - device nodes: modes and owners against the devnode callbacks and brd;
#    what nobody (uid 65534, no capabilities) may open, ioctl and mmap;
#  - sysfs and module parameters: nobody reads only harmless values and
#    writes nothing; 0444 parameters refuse root too;
#  - debugfs: each file's own mode refuses nobody (the debugfs root, 0700,
#    is bypassed through a directory fd root opened), and the capability
#    checks refuse root without CAP_SYS_ADMIN (ptdump, pgcache, ramdisk's trace) or
#    CAP_PERFMON/CAP_SYS_ADMIN (cstrace);
#  - no kernel virtual address anywhere, even in what root reads; PFNs only
#    with CAP_SYS_ADMIN, as /proc/PID/pagemap; ptdump honours ptrace
#    access as pagemap does;
#  - the CLI as nobody: a clear message and a non-zero exit.

load common

DBG=/sys/kernel/debug
SDBG=$DBG/shikumi
CS=$SDBG/cstrace
PTD=$SDBG/ptdump
PGC=$SDBG/pgcache
RDBG=$SDBG/shikumi-ram0
CHR=/dev/shikumi-chr0
RAM=/dev/shikumi-ram0
T=shikumi-chrtest

# root without CAP_SYS_ADMIN; without CAP_SYS_ADMIN and CAP_PERFMON; without
# CAP_SYS_PTRACE (and with every other capability)
NO_ADMIN=(setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin --)
NO_PERF=(setpriv --inh-caps=-sys_admin,-perfmon --bounding-set=-sys_admin,-perfmon --)
NO_PTRACE=(setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace --)

# A kernel virtual address, in hex (with or without 0x) or in decimal.
# U64_MAX ("no limit") is not one.
KADDR_PL='
sub kaddr {
	my ($s) = @_;
	my @hits;
	push @hits, $1 while $s =~ /(?<![0-9a-fA-F])((?:0x)?ffff[89a-fA-F][0-9a-fA-F]{11})(?![0-9a-fA-F])/g;
	while ($s =~ /(?<![0-9])(18446[0-9]{15})(?![0-9])/g) {
		push @hits, $1 if $1 ne "18446744073709551615" && $1 ge "18446603336221196288";
	}
	return @hits;
}'

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q $DBG || mount -t debugfs none $DBG
	local m
	for m in shikumi_chrdev shikumi_ramdisk shikumi_ptdump shikumi_cstrace shikumi_pgcache; do
		module_loaded $m || shikumi load $m
	done
	udevadm settle 2>/dev/null || true
	bg=
}

teardown() {
	if [[ -n $bg ]]; then
		kill -9 $bg 2>/dev/null || true
		wait $bg 2>/dev/null || true
	fi
	{ exec 5<&-; } 2>/dev/null || true
	[[ ! -e $CS/enable ]] || echo 0 >"$CS/enable"
	common_teardown
}

expect_eq() {
	if [[ $2 != "$3" ]]; then
		echo "$1: got '$2', expected '$3'"
		return 1
	fi
}

# kaddr_in: print what looks like a kernel address in stdin
kaddr_in() {
	perl -e "$KADDR_PL"' local $/; my $s = <STDIN> // ""; print "$_\n" for kaddr($s);'
}

# open_probe r|w|rw PATH...: open each PATH (O_NONBLOCK) and print
# "PATH ok" or "PATH ERRNO".
open_probe() {
	perl -e '
use Fcntl;
my %m = (r => O_RDONLY, w => O_WRONLY, rw => O_RDWR);
my $mode = $m{shift @ARGV} // die "mode";
for my $p (@ARGV) {
	if (sysopen(my $fh, $p, $mode | O_NONBLOCK)) {
		print "$p ok\n";
		close $fh;
	} else {
		my ($e) = grep { $!{$_} } keys %!;
		print "$p ", $e // "errno" . ($! + 0), "\n";
	}
}' "$@"
}

# expect_all RESULT: every line of $output ends with RESULT, and there is
# at least one line.
expect_all() {
	local want=$1 bad
	[[ -n $output ]] || { echo "no output"; return 1; }
	bad=$(grep -v " $want\$" <<<"$output" || true)
	if [[ -n $bad ]]; then
		echo "expected $want, got:"
		echo "$bad"
		return 1
	fi
}

# scan_kaddr FILE...: print "FILE: VALUE" for every readable FILE holding
# something that looks like a kernel virtual address; the last line counts
# the files read.
scan_kaddr() {
	perl -e "$KADDR_PL"'
my $n = 0;
for my $p (@ARGV) {
	open(my $fh, "<", $p) or next;
	local $/;
	my $s = <$fh>;
	next unless defined $s;
	$n++;
	print "$p: $_\n" for kaddr($s);
}
print "read $n\n";' "$@"
}

# query_probe PATH QUERY: open PATH read-write, write QUERY, read the
# answer: "open ERRNO", "query ERRNO", or "ok" and the first line read.
query_probe() {
	perl -e '
use Fcntl;
my ($p, $q) = @ARGV;
sub err { my ($e) = grep { $!{$_} } keys %!; return $e // ($! + 0) }
sysopen(my $fh, $p, O_RDWR) or do { print "open ", err(), "\n"; exit 0 };
defined syswrite($fh, $q) or do { print "query ", err(), "\n"; exit 0 };
my $buf = "";
sysread($fh, $buf, 65536);
print "ok\n", (split /\n/, $buf)[0] // "", "\n";' "$@"
}

# The PFN /proc/self/pagemap gives for the top page of perl's stack.
pagemap_pfn() {
	perl -e '
open(my $m, "<", "/proc/self/maps") or die;
my ($end) = map { /^[0-9a-f]+-([0-9a-f]+) .*\[stack\]/ ? hex($1) : () } <$m>;
my $va = $end - 4096;
open(my $pm, "<:raw", "/proc/self/pagemap") or die "pagemap: $!";
sysseek($pm, ($va >> 12) * 8, 0) or die;
sysread($pm, my $e, 8) == 8 or die;
my $v = unpack("Q", $e);
printf "present=%d pfn=%d\n", ($v >> 63) & 1, $v & ((1 << 55) - 1);'
}

sysfs_files() {
	find -H /sys/class/shikumi-chr/shikumi-chr* /sys/block/shikumi-ram* \
		/sys/module/shikumi_* -type f 2>/dev/null
}

# ---- device nodes -------------------------------------------------------------

@test "nodes: /dev/shikumi-chrN are crw-rw-rw- root:root, as the devnode callback says" {
	local n=0 f
	for f in /dev/shikumi-chr*; do
		[ -c "$f" ]
		expect_eq "$f" "$(stat -c '%a %u %g' "$f")" "666 0 0"
		n=$((n + 1))
	done
	[ "$n" -eq "$(cat /sys/module/shikumi_chrdev/parameters/nr_devices)" ]
}

@test "nodes: /dev/shikumi-ramN are brw------- root:root, as brd's /dev/ram0" {
	local loaded_brd=
	if [[ ! -e /dev/ram0 ]] && modprobe brd rd_nr=1 rd_size=1024 2>/dev/null; then
		loaded_brd=1
		udevadm settle 2>/dev/null || true
	fi
	local brd=
	[[ -e /dev/ram0 ]] && brd=$(stat -c '%a %u %g' /dev/ram0)
	[[ -z $loaded_brd ]] || rmmod brd
	echo "# brd /dev/ram0: ${brd:-not available}" >&3
	local f
	for f in /dev/shikumi-ram*; do
		[ -b "$f" ]
		expect_eq "$f" "$(stat -c '%a %u %g' "$f")" "600 0 0"
		[[ -z $brd ]] || expect_eq "$f against brd" "$(stat -c '%a %u %g' "$f")" "$brd"
	done
}

@test "nodes: nobody opens shikumi-chr for read and write, but no shikumi-ram at all" {
	run as_user bash -c "$(declare -f open_probe); open_probe r $CHR; open_probe w $CHR; open_probe rw $CHR"
	expect_all ok
	run as_user bash -c "$(declare -f open_probe); open_probe r $RAM; open_probe w $RAM; open_probe rw $RAM"
	expect_all EACCES
}

@test "chrdev: nobody may SUBMIT and map the registers read-only, never writable; RESET needs CAP_SYS_ADMIN" {
	# a world device by design (as /dev/null or a pipe): commands and
	# the read-only register page are everyone's
	run as_user "$T" try-submit "$CHR" irq 1000
	expect_eq "submit as nobody" "$output" ok
	run as_user "$T" regs "$CHR"
	[ "$status" -eq 0 ]
	[[ $output == *"magic=0x4d4b4853"* ]]
	run as_user "$T" probe "$CHR" mmap-rw mmap-mprotect mmap-private-rw \
		mmap-private-mprotect
	expect_eq probes "$output" "$(printf '%s\n' "mmap-rw EACCES" \
		"mmap-mprotect EACCES" "mmap-private-rw EACCES" \
		"mmap-private-mprotect EACCES")"
	# the counters belong to everyone: zeroing them needs CAP_SYS_ADMIN
	run as_user "$T" reset "$CHR"
	expect_eq "reset as nobody" "$output" EPERM
	run "${NO_ADMIN[@]}" "$T" reset "$CHR"
	expect_eq "reset as root without CAP_SYS_ADMIN" "$output" EPERM
	run "$T" reset "$CHR"
	expect_eq "reset as root" "$output" ok
}

@test "chrdev: the register page cannot be written even with FOLL_FORCE (/proc/PID/mem)" {
	local out=$BATS_TEST_TMPDIR/hold.out
	"$T" hold-mmap "$CHR" >"$out" &
	bg=$!
	for _ in $(seq 100); do
		grep -q ready "$out" && break
		nap 0.1
	done
	grep -q ready "$out"
	local start
	start=$(awk -v dev="$CHR" '$6 == dev { split($1, a, "-"); print a[1] }' /proc/$bg/maps)
	[[ -n $start ]]
	# root writes through /proc/PID/mem: not a COW mapping, so refused
	run perl -e '
my ($pid, $va) = @ARGV;
open(my $fh, "+<:raw", "/proc/$pid/mem") or die "open: $!";
sysseek($fh, hex($va), 0) or die "seek: $!";
my $n = syswrite($fh, "EVIL");
print defined $n ? "wrote $n\n" : "refused $!\n";' "$bg" "$start"
	echo "$output"
	[[ $output == refused* ]]
	run "$T" regs "$CHR"
	[[ $output == *"magic=0x4d4b4853"* ]]
}

# ---- sysfs and module parameters ----------------------------------------------

@test "sysfs: nobody can write no file of the modules, and reads no kernel address" {
	mapfile -t files < <(sysfs_files)
	echo "# ${#files[@]} sysfs files" >&3
	[ "${#files[@]}" -gt 40 ]
	run as_user bash -c "$(declare -f open_probe); open_probe w \"\$@\"" _ "${files[@]}"
	expect_all EACCES
	run as_user bash -c "KADDR_PL='$KADDR_PL'; $(declare -f scan_kaddr); scan_kaddr \"\$@\"" _ "${files[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	expect_eq "kernel addresses" "$(grep -v '^read ' <<<"$output" || true)" ""
	# the shikumi files are all readable and were read
	local nread=${output##*read }
	echo "# nobody read $nread of them" >&3
	[ "$nread" -gt 30 ]
}

@test "sysfs: the ramdisk's controls are root's: 0644 (reset 0200), nobody's writes change nothing" {
	local ctl=/sys/block/shikumi-ram0/shikumi f mode
	for f in "$ctl"/*; do
		mode=$(stat -c '%a %u' "$f")
		case ${f##*/} in
		pages) expect_eq "$f" "$mode" "444 0" ;;
		reset) expect_eq "$f" "$mode" "200 0" ;;
		*) expect_eq "$f" "$mode" "644 0" ;;
		esac
	done
	local before
	before=$(cat "$ctl/model" "$ctl/policy" "$ctl/hdd_rpm")
	run as_user sh -c "echo hdd >$ctl/model; echo sstf >$ctl/policy; echo 1000 >$ctl/hdd_rpm; echo 1 >$ctl/reset"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	expect_eq "controls" "$(cat "$ctl/model" "$ctl/policy" "$ctl/hdd_rpm")" "$before"
	# chrdev's attributes are all read-only
	for f in /sys/class/shikumi-chr/shikumi-chr0/{completions,irqs,polls,cmd_seq,fifo_size,fifo_len,status}; do
		expect_eq "$f" "$(stat -c '%a %u' "$f")" "444 0"
	done
}

@test "module parameters: every shikumi parameter is 0444, and root's write is refused too" {
	local f n=0 before
	for f in /sys/module/shikumi_*/parameters/*; do
		expect_eq "$f" "$(stat -c '%a %u' "$f")" "444 0"
		before=$(cat "$f")
		run bash -c "echo 1 >$f"
		[ "$status" -ne 0 ]
		[[ $output == *"Permission denied"* ]]
		expect_eq "$f after root's write" "$(cat "$f")" "$before"
		n=$((n + 1))
	done
	echo "# $n parameters" >&3
	# chrdev 2, ramdisk 5, cstrace 1 (ptdump has none)
	[ "$n" -eq 8 ]
	run bash -c "$(declare -f open_probe); open_probe w /sys/module/shikumi_*/parameters/*"
	expect_all EACCES
}

# ---- debugfs ------------------------------------------------------------------

@test "debugfs: every shikumi file is root's with no group or other bits; the root is 0700" {
	# the kernel's default mode for the debugfs root (the guest's mount)
	echo "# debugfs root: $(stat -c %a $DBG)" >&3
	local f mode n=0
	while read -r mode f; do
		if (( (8#${mode%% *} & 8#077) != 0 )); then
			echo "$f: $mode"
			return 1
		fi
		n=$((n + 1))
	done < <(find $SDBG -mindepth 1 -type f -printf '%m %p\n')
	run find $SDBG -mindepth 1 ! -uid 0
	expect_eq "not root's" "$output" ""
	echo "# $n debugfs files" >&3
	# ramdisk 3 per disk, ptdump 2, cstrace 8, pgcache 2
	[ "$n" -ge 15 ]
	expect_eq "dump" "$(stat -c %a $PTD/dump)" 600
	expect_eq "status" "$(stat -c %a $PTD/status)" 400
}

@test "debugfs: the files' own modes refuse nobody, past the debugfs root (a directory fd root opened)" {
	# fd 5 is /sys/kernel/debug/shikumi, opened by root: nobody reaches
	# the files through /proc/self/fd/5 without searching the 0700 root,
	# so only the files' modes stand between nobody and them
	exec 5<$SDBG
	mapfile -t rel < <(cd $SDBG && find . -mindepth 1 -type f | sed 's|^\./||')
	[ "${#rel[@]}" -ge 13 ]
	local paths=("${rel[@]/#//proc/self/fd/5/}")
	# the trick works: nobody can list the directories themselves
	run as_user ls /proc/self/fd/5/ptdump
	[ "$status" -eq 0 ]
	[[ $output == *dump* ]]
	run as_user bash -c "$(declare -f open_probe); open_probe r \"\$@\"; open_probe w \"\$@\"" _ "${paths[@]}"
	expect_all EACCES
	# nothing was switched on by the attempts
	[ "$(cat "$CS/enable")" = 0 ]
	exec 5<&-
}

@test "debugfs: ptdump needs CAP_SYS_ADMIN: root without it gets EPERM and no PFN" {
	run "${NO_ADMIN[@]}" bash -c "$(declare -f open_probe); open_probe r $PTD/dump; open_probe rw $PTD/dump"
	expect_all EPERM
	run "${NO_ADMIN[@]}" cat $PTD/dump
	[ "$status" -ne 0 ]
	[[ $output == *"Operation not permitted"* ]]
	[[ $output != *pfn* ]]
	run "${NO_ADMIN[@]}" bash -c "$(declare -f query_probe); query_probe $PTD/dump 'pid=1 view=full'"
	expect_eq "query without CAP_SYS_ADMIN" "$output" "open EPERM"
	# status is harmless: counts only
	run "${NO_ADMIN[@]}" cat $PTD/status
	[ "$status" -eq 0 ]
	[[ $output == *open_files* ]]
	# with CAP_SYS_ADMIN: PFNs, as pagemap gives them
	run query_probe $PTD/dump "pid=$$ view=full"
	[ "${lines[0]}" = ok ]
}

@test "debugfs: PFNs, as the kernel's pagemap: zero without CAP_SYS_ADMIN, real with it" {
	run pagemap_pfn
	echo "root: $output"
	[[ $output == "present=1 pfn="* ]]
	[[ $output != *"pfn=0" ]]
	run "${NO_ADMIN[@]}" bash -c "$(declare -f pagemap_pfn); pagemap_pfn"
	echo "root without CAP_SYS_ADMIN: $output"
	expect_eq "pagemap without CAP_SYS_ADMIN" "$output" "present=1 pfn=0"
	run as_user bash -c "$(declare -f pagemap_pfn); pagemap_pfn"
	expect_eq "pagemap as nobody" "$output" "present=1 pfn=0"
	# ptdump gives nothing at all instead
	run "${NO_ADMIN[@]}" shikumi pt translate $$ 0x400000
	[ "$status" -eq 1 ]
	[[ $output == *"CAP_SYS_ADMIN"* ]]
	[[ $output != *"pfn"* && $output != *"physical"* ]]
}

@test "debugfs: ptdump needs CAP_SYS_PTRACE for another process, in place of pagemap's ptrace access check" {
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups -- sleep 1000 &
	bg=$!
	for _ in $(seq 50); do
		[[ $(stat -c %u /proc/$bg 2>/dev/null) == "$NOBODY" ]] && break
		nap 0.1
	done
	[[ $(stat -c %u /proc/$bg) == "$NOBODY" ]]
	# the kernel, for reference: on 6.1 and 6.12 opening another uid's
	# pagemap or maps without CAP_SYS_PTRACE gets EACCES; 7.2 lets the
	# open through.  Shown, not asserted: ptdump's rule is its own.
	run "${NO_PTRACE[@]}" bash -c "$(declare -f open_probe); open_probe r /proc/$bg/pagemap /proc/$bg/maps"
	echo "# $(uname -r), root without CAP_SYS_PTRACE opening another uid's:" \
		"${lines[*]/\/proc\/$bg\//}" >&3
	# ptdump must refuse the same query (it has CAP_SYS_ADMIN, but not
	# the right to inspect that process)
	run "${NO_PTRACE[@]}" bash -c "$(declare -f query_probe); query_probe $PTD/dump 'pid=$bg view=summary'"
	echo "$output"
	[[ ${lines[0]} == "query EPERM" || ${lines[0]} == "query EACCES" ]]
	# its own tables stay allowed
	run "${NO_PTRACE[@]}" bash -c "$(declare -f query_probe); query_probe $PTD/dump 'view=stats'"
	[ "${lines[0]}" = ok ]
	# and with CAP_SYS_PTRACE, the other process too
	run query_probe $PTD/dump "pid=$bg view=summary"
	[ "${lines[0]}" = ok ]
}

# fd_query FD QUERY: write QUERY to the inherited descriptor FD; "ok" or
# the errno's name
fd_query() {
	perl -e '
open(my $f, "+<&=", $ARGV[0]) or die "fd $ARGV[0]: $!";
if (defined syswrite($f, $ARGV[1])) { print "ok\n" }
else { my ($e) = grep { $!{$_} } keys %!; print "$e\n" }' "$@"
}

@test "debugfs: a ptdump file root opened answers no query of a process without the capabilities, that inherited it" {
	exec 5<>$PTD/dump
	# another process's tables: the writer needs CAP_SYS_PTRACE itself
	run "${NO_PTRACE[@]}" bash -c "$(declare -f fd_query); fd_query 5 'pid=1 view=summary'"
	expect_eq "pid 1, writer without CAP_SYS_PTRACE" "$output" EPERM
	# any tables, its own too: PFNs need CAP_SYS_ADMIN, as in pagemap
	run "${NO_ADMIN[@]}" bash -c "$(declare -f fd_query); fd_query 5 'view=stats'"
	expect_eq "own tables, writer without CAP_SYS_ADMIN" "$output" EPERM
	# the opener itself still may
	run fd_query 5 "pid=1 view=summary"
	expect_eq "pid 1, root" "$output" ok
	exec 5>&-
}

@test "debugfs: pgcache needs CAP_SYS_ADMIN to open and to query; a file root opened answers no writer without it" {
	run "${NO_ADMIN[@]}" bash -c "$(declare -f open_probe); open_probe r $PGC/cache; open_probe rw $PGC/cache"
	expect_all EPERM
	run "${NO_ADMIN[@]}" cat $PGC/status
	[ "$status" -eq 0 ]
	[[ $output == *open_files* ]]
	# the descriptor is the writer's own: one it holds on a file it may read
	exec 5<>$PGC/cache
	run "${NO_ADMIN[@]}" bash -c "exec 6</etc/passwd; $(declare -f fd_query); fd_query 5 'fd=6'"
	expect_eq "query, writer without CAP_SYS_ADMIN" "$output" EPERM
	run bash -c "exec 6</etc/passwd; $(declare -f fd_query); fd_query 5 'fd=6'"
	expect_eq "query, root" "$output" ok
	exec 5>&-
	# nobody cannot open the file at all, past the 0700 root or not
	run as_user cat $PGC/cache
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
}

@test "debugfs: every cstrace file needs CAP_PERFMON or CAP_SYS_ADMIN (EPERM), either one is enough" {
	local files=("$CS"/*)
	[ "${#files[@]}" -eq 8 ]
	run "${NO_PERF[@]}" bash -c "$(declare -f open_probe); open_probe r \"\$@\"" _ "${files[@]}"
	expect_all EPERM
	run "${NO_PERF[@]}" bash -c "$(declare -f open_probe); open_probe w \"\$@\"" _ \
		"$CS/enable" "$CS/filter_pid" "$CS/filter_tgid" "$CS/filter_cpu" "$CS/follow_fork"
	expect_all EPERM
	run "${NO_PERF[@]}" bash -c "echo 1 >$CS/enable"
	[ "$status" -ne 0 ]
	[ "$(cat "$CS/enable")" = 0 ]
	# CAP_PERFMON alone, or CAP_SYS_ADMIN alone, opens them
	run "${NO_ADMIN[@]}" bash -c "$(declare -f open_probe); open_probe r \"\$@\"" _ "${files[@]}"
	expect_all ok
	run setpriv --inh-caps=-perfmon --bounding-set=-perfmon -- \
		bash -c "$(declare -f open_probe); open_probe r \"\$@\"" _ "${files[@]}"
	expect_all ok
}

@test "debugfs: ramdisk's trace needs CAP_SYS_ADMIN, as blktrace does; its stats need root only" {
	# trace and trace_raw show every request to the disk (sector, size,
	# time) and are consumed by reading: blktrace (BLKTRACESETUP) needs
	# CAP_SYS_ADMIN for the same.  stats are counters, like
	# /sys/kernel/debug/block/*, which need root only.
	run "${NO_ADMIN[@]}" bash -c "$(declare -f open_probe); open_probe r $RDBG/trace $RDBG/trace_raw"
	echo "$output"
	expect_all EPERM
	run "${NO_ADMIN[@]}" cat "$RDBG/stats"
	[ "$status" -eq 0 ]
	[[ $output == *submitted* ]]
}

# ---- what root reads: no kernel address -----------------------------------------

@test "records: ptdump's text and raw dumps hold PFNs and raw entries, never a kernel virtual address" {
	# text: full and translate views of this shell
	local stack end
	end=$(awk '/\[stack\]/ { split($1, a, "-"); print a[2] }' /proc/$$/maps)
	stack=$(printf '0x%x' $((0x$end - 4096)))
	exec 5<>$PTD/dump
	echo "pid=$$ view=full" >&5
	cat <&5 >"$BATS_TEST_TMPDIR/full.txt"
	echo "pid=$$ view=translate addr=$stack" >&5
	cat <&5 >"$BATS_TEST_TMPDIR/translate.txt"
	echo "pid=$$ view=full format=raw" >&5
	cat <&5 >"$BATS_TEST_TMPDIR/full.raw"
	exec 5>&-
	grep -q 'pfn' "$BATS_TEST_TMPDIR/full.txt"
	grep -q 'physical address' "$BATS_TEST_TMPDIR/translate.txt"
	run scan_kaddr "$BATS_TEST_TMPDIR/full.txt" "$BATS_TEST_TMPDIR/translate.txt" $PTD/status
	expect_eq "kernel addresses" "$output" "read 3"
	# raw: every va is a user address; pfn fields are frame numbers
	run perl -e '
open(my $f, "<:raw", $ARGV[0]) or die;
my ($n, $bad, $leaf, $table) = (0, 0, 0, 0);
while (read($f, my $r, 32) == 32) {
	my ($type, $level, $index, $flags, $va, $raw, $pfn) = unpack("C C S L Q Q Q", $r);
	$n++;
	next if $type == 7 || $type == 8;	# STATS, END: counts
	if ($va >= 1 << 56) { print "kernel va $va in type $type\n"; $bad++ }
	if (($type == 3 || $type == 4) && $pfn >= 1 << 40) { print "pfn $pfn\n"; $bad++ }
	$leaf++ if $type == 4 && $pfn;
	$table++ if $type == 3 && $pfn;
}
print "records $n leaves $leaf tables $table bad $bad\n";' "$BATS_TEST_TMPDIR/full.raw"
	echo "$output"
	echo "# ptdump raw: ${lines[-1]}" >&3
	[[ ${lines[-1]} == *" bad 0" ]]
	# root with CAP_SYS_ADMIN sees PFNs, also those of the page-table pages
	[[ ${lines[-1]} != *" leaves 0 "* ]]
	[[ ${lines[-1]} != *" tables 0 "* ]]
}

@test "records: pgcache's views hold indexes, PFNs and flags of a cached file, never a kernel address" {
	# a file surely cached: one in tmpfs (the tree's, over 9p, has no cache)
	local t=$BATS_TEST_TMPDIR/tmpfs
	mkdir -p "$t"
	mount -t tmpfs none "$t"
	seq 100000 >"$t/file"
	exec 5<>$PGC/cache 6<"$t/file"
	echo "fd=6" >&5
	cat <&5 >"$BATS_TEST_TMPDIR/folios.txt"
	echo "fd=6 view=summary" >&5
	cat <&5 >"$BATS_TEST_TMPDIR/summary.txt"
	exec 5>&- 6<&-
	umount "$t"
	grep -q uptodate "$BATS_TEST_TMPDIR/folios.txt"
	run scan_kaddr "$BATS_TEST_TMPDIR/folios.txt" "$BATS_TEST_TMPDIR/summary.txt" $PGC/status
	expect_eq "kernel addresses" "$output" "read 3"
}

@test "records: cstrace's trace_pipe and trace_raw hold pids, comms and counters, no kernel address" {
	echo none >"$CS/filter_pid"
	echo none >"$CS/filter_tgid"
	echo all >"$CS/filter_cpu"
	echo 1 >"$CS/enable"
	nap 0.2
	echo 0 >"$CS/enable"
	cat "$CS/trace_pipe" >"$BATS_TEST_TMPDIR/trace.txt"
	[ -s "$BATS_TEST_TMPDIR/trace.txt" ]
	run scan_kaddr "$BATS_TEST_TMPDIR/trace.txt" "$CS/stats"
	expect_eq "kernel addresses" "$output" "read 2"
	echo 1 >"$CS/enable"
	nap 0.2
	echo 0 >"$CS/enable"
	cat "$CS/trace_raw" >"$BATS_TEST_TMPDIR/trace.raw"
	run perl -e '
open(my $f, "<:raw", $ARGV[0]) or die;
my ($n, $bad) = (0, 0);
while (read($f, my $r, 80) == 80) {
	my @q = unpack("Q10", $r);
	$n++;
	for my $i (0 .. 5) {		# the 48 bytes before the comms
		if ($q[$i] >= 0xffff800000000000) { printf "record %d: 0x%x\n", $n, $q[$i]; $bad++ }
	}
	my (undef, undef, undef, undef, undef, $reserved) = unpack("Q S S S C C", $r);
	$bad++, print "reserved $reserved\n" if $reserved;
}
print "records $n bad $bad\n";' "$BATS_TEST_TMPDIR/trace.raw"
	echo "$output"
	echo "# cstrace raw: ${lines[-1]}" >&3
	[[ ${lines[-1]} == *" bad 0" ]]
	[[ ${lines[-1]} != "records 0 "* ]]
}

@test "records: ramdisk's trace, trace_raw and stats hold sectors and times, no kernel address" {
	cat "$RDBG/trace_raw" >/dev/null
	dd if=/dev/zero of=$RAM bs=4k count=8 oflag=direct status=none
	dd if=$RAM of=/dev/null bs=4k count=8 iflag=direct status=none
	cat "$RDBG/trace_raw" >"$BATS_TEST_TMPDIR/blk.raw"
	dd if=$RAM of=/dev/null bs=4k count=4 iflag=direct status=none
	cat "$RDBG/trace" >"$BATS_TEST_TMPDIR/blk.txt"
	run scan_kaddr "$BATS_TEST_TMPDIR/blk.txt" "$RDBG/stats"
	expect_eq "kernel addresses" "$output" "read 2"
	run perl -e '
open(my $f, "<:raw", $ARGV[0]) or die;
my ($n, $bad) = (0, 0);
while (read($f, my $r, 88) == 88) {
	my @q = unpack("Q6", $r);
	$n++;
	for my $v (@q) { if ($v >= 0xffff800000000000) { printf "0x%x\n", $v; $bad++ } }
	my $reserved = unpack("x68 L", $r);
	$bad++ if $reserved;
}
print "records $n bad $bad\n";' "$BATS_TEST_TMPDIR/blk.raw"
	echo "$output"
	[[ ${lines[-1]} == *" bad 0" ]]
	[[ ${lines[-1]} != "records 0 "* ]]
}

@test "sources: no %p format and no pointer turned into an integer, in the modules and the uapi" {
	cd "$SHIKUMI_ROOT"
	# %pb/%pbl (bitmaps, cstrace's filters) print no pointer
	run grep -nE '%p[^bl]|%p$|%px|%pK' modules/*/*.c include/uapi/shikumi/*.h tools/shikumi/*.c
	expect_eq "%p formats" "$output" ""
	# the only pointer made an integer is chrdev's page, for free_page()
	run bash -c "grep -nE '\\((unsigned long|uintptr_t|intptr_t)\\)' modules/*/*.c | grep -v 'free_page((unsigned long)d->regs)' || true"
	expect_eq "pointer casts" "$output" ""
}

# ---- the CLI as nobody --------------------------------------------------------

@test "cli as nobody: load, unload and every privileged command fail with a clear message" {
	local ctl=/sys/block/shikumi-ram0/shikumi before
	before=$(cat "$ctl/model" "$ctl/policy")
	run as_user shikumi unload chrdev
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	module_loaded shikumi_chrdev
	# loading what is loaded is a no-op anyone may ask for; a real load
	# is refused by the kernel (CAP_SYS_MODULE)
	run as_user shikumi load ramdisk
	echo "load: $status: $output"
	[[ $output == *"already loaded"* ]]
	shikumi unload chrdev
	run as_user shikumi load chrdev
	echo "load: $status: $output"
	local st=$status out=$output
	module_loaded shikumi_chrdev || shikumi load chrdev
	[ "$st" -eq 1 ]
	[[ $out == *"needs root"* ]]
	local cmd
	for cmd in "blk stats" "blk trace" "blk policy sstf" "blk model hdd" \
		"blk stats --reset" "pt dump $$" "pt translate $$ 0x400000" \
		"pt stats $$" "sched record -o /tmp/nobody.data -- true"; do
		run as_user shikumi $cmd
		echo "$cmd: $status: $output"
		[ "$status" -eq 1 ]
		[[ $output == *"root"* ]]
		[[ $output != *"pfn"* ]]
	done
	expect_eq "model and policy" "$(cat "$ctl/model" "$ctl/policy")" "$before"
}

@test "cli as nobody: status, chr info and blk info work and show no kernel address" {
	local cmd
	for cmd in "status" "chr info" "blk info" "status --json" "chr info --json" "blk info --json"; do
		run as_user shikumi $cmd
		echo "$cmd: $status"
		[ "$status" -eq 0 ]
		expect_eq "$cmd: kernel addresses" "$(kaddr_in <<<"$output")" ""
	done
}

@test "cli without CAP_SYS_ADMIN or CAP_PERFMON: pt and sched say which capability is missing" {
	run "${NO_ADMIN[@]}" shikumi pt dump $$
	[ "$status" -eq 1 ]
	[[ $output == *"CAP_SYS_ADMIN"* ]]
	run "${NO_PERF[@]}" shikumi sched record -o "$BATS_TEST_TMPDIR/s.data" -- true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"CAP_PERFMON"* ]]
	[ "$(cat "$CS/enable")" = 0 ]
}
