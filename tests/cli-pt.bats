#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi pt: the CLI of shikumi_ptdump, checked against what the kernel
# says elsewhere: /proc/PID/pagemap (read here with perl), VmPTE and VmRSS
# in /proc/PID/status, /proc/PID/maps, readelf's section headers, and a
# write made through /proc/PID/mem.

load common

setup_file() {
	# a target whose memory we know: 32 pages written, 32 only read (the
	# zero page), 4 KiB pages only; it prints the mapping's address.  The
	# mapping is locked on fault, which populates nothing more (the zero
	# pages stay): reclaim leaves locked pages alone, so no scan of the LRU
	# (MGLRU's page-table walk and look-around among them) clears their
	# accessed bits between two dumps, as one did on 7.x in a busy guest.
	cat >"$BATS_FILE_TMPDIR/target.c" <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	volatile char *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	if (p == MAP_FAILED)
		return 1;
	madvise((void *)p, 64 * 4096, MADV_NOHUGEPAGE);
	for (i = 0; i < 32; i++)
		p[i * 4096] = 1;
	for (i = 32; i < 64; i++)
		(void)p[i * 4096];
	if (mlock2((void *)p, 64 * 4096, MLOCK_ONFAULT)) {
		perror("mlock2");
		return 1;
	}
	printf("%p\n", (void *)p);
	fflush(stdout);
	for (;;)
		pause();
}
C
	gcc -O1 -no-pie -o "$BATS_FILE_TMPDIR/target" "$BATS_FILE_TMPDIR/target.c"
}

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	module_loaded shikumi_ptdump || shikumi load shikumi_ptdump
	TARGET_PID=
}

teardown() {
	if [[ -n $TARGET_PID ]]; then
		kill -KILL "$TARGET_PID" 2>/dev/null || true
		wait "$TARGET_PID" 2>/dev/null || true
	fi
	common_teardown
}

# Start the target, wait for its address, stop it: TARGET_PID, TARGET_ADDR.
start_target() {
	"$BATS_FILE_TMPDIR/target" >"$BATS_TEST_TMPDIR/addr" &
	TARGET_PID=$!
	for _ in $(seq 600); do
		[[ -s $BATS_TEST_TMPDIR/addr ]] && break
		nap 0.1
	done
	TARGET_ADDR=$(($(cat "$BATS_TEST_TMPDIR/addr")))
	kill -STOP "$TARGET_PID"
}

# "VA PFN [VM_FLAGS]" lines on stdin; prints "checked mismatches" against
# pagemap.  pagemap's walk treats a VM_PFNMAP mapping (such as [vvar]) as a
# hole (walk_page_test() in mm/pagewalk.c), so pages there are not compared.
pagemap_check() {
	perl -e '
		my $pid = shift;
		open(my $pm, "<", "/proc/$pid/pagemap") or die "pagemap: $!";
		my ($n, $bad) = (0, 0);
		while (<STDIN>) {
			my ($va, $pfn, $vmf) = split;
			next if defined($vmf) && (hex($vmf) & 0x400);	# VM_PFNMAP
			sysseek($pm, int($va / 4096) * 8, 0) or die "seek: $!";
			sysread($pm, my $b, 8) == 8 or die "read: $!";
			my $e = unpack("Q<", $b);
			my $p = $e & ((1 << 55) - 1);
			$n++;
			if (!(($e >> 63) & 1) || $p != $pfn) {
				$bad++;
				printf STDERR "0x%x: shikumi pfn 0x%x, pagemap 0x%x (entry 0x%x)\n",
					$va, $pfn, $p, $e;
			}
		}
		print "$n $bad\n";' "$1"
}

@test "shikumi pt dump --full: every 4K PFN is the one /proc/PID/pagemap gives" {
	start_target
	run shikumi pt dump "$TARGET_PID" --full --json
	[ "$status" -eq 0 ]
	json=$output
	read -r n bad < <(jq -r '.vmas[] | .vm_flags as $f | .entries[] |
		select(.type == "leaf" and .level == "pte") | "\(.va) \(.pfn) \($f)"' <<<"$json" |
		pagemap_check "$TARGET_PID")
	echo "checked $n, mismatches $bad" >&2
	[ "$n" -gt 64 ]
	[ "$bad" -eq 0 ]
	# the target's mapping: 32 anonymous writable pages, then 32 zero pages
	vma() { jq "[.vmas[] | select(.start == $TARGET_ADDR) | .entries[]] | $1" <<<"$json"; }
	[ "$(vma 'length')" -eq 64 ]
	[ "$(vma '[.[] | select(.page == "anon" and (.flags | index("write")))] | length')" -eq 32 ]
	[ "$(vma '[.[] | select(.page == "zero" and (.flags | index("write") | not))] | length')" -eq 32 ]
	# every level above a PTE is there, with its index
	[ "$(vma '[.[] | .tables | length] | min')" -ge 3 ]
	[ "$(vma '.[0].index')" -eq $(((TARGET_ADDR >> 12) & 511)) ]

	run shikumi pt dump "$TARGET_PID" --range "$TARGET_ADDR-$((TARGET_ADDR + 64 * 4096))"
	[ "$status" -eq 0 ]
	echo "$output" >&2
	[[ $output == *" 128K pte     32  RW USR A D"*"anon excl"* ]]
	[[ $output == *" 128K pte     32  ro USR A -"*"zero"* ]]
}

@test "shikumi pt dump: .text and the PT_LOAD segments where readelf and the maps put them" {
	start_target
	run shikumi pt dump "$TARGET_PID" --json
	[ "$status" -eq 0 ]
	json=$output
	exe=$(readlink "/proc/$TARGET_PID/exe")
	# non-PIE: the link-time addresses, no bias
	text=$(readelf -SW "$exe" | awk '$2 == ".text" { print $4 }')
	start=$(jq --arg f "$exe" '[.vmas[].sections[] | select(.name == ".text" and .file == $f)][0].start' <<<"$json")
	[ "$start" -eq $((0x$text)) ]
	[ "$(jq --arg f "$exe" '.elf_files[] | select(.path == $f) | .load_bias' <<<"$json")" -eq 0 ]
	# and inside an r-xp mapping of the executable
	inside=0
	while read -r range perms _ _ _ path; do
		[[ $perms == r-xp && $path == "$exe" ]] || continue
		((start >= 0x${range%-*} && start < 0x${range#*-})) && inside=1
	done <"/proc/$TARGET_PID/maps"
	[ "$inside" -eq 1 ]

	# a PIE program: the bias is where the maps put its first page
	sleep 1000 &
	pid=$!
	# once the forked shell has exec'd sleep
	exe=$(readlink -f "$(command -v sleep)")
	for _ in $(seq 600); do
		[[ $(readlink "/proc/$pid/exe") == "$exe" ]] && break
		nap 0.1
	done
	[ "$(readlink "/proc/$pid/exe")" = "$exe" ]
	run shikumi pt dump "$pid" --json
	kill "$pid"
	[ "$status" -eq 0 ]
	bias=$(jq --arg f "$exe" '.elf_files[] | select(.path == $f) | .load_bias' <<<"$output")
	[ "$(jq --arg f "$exe" '.elf_files[] | select(.path == $f) | .pie' <<<"$output")" = true ]
	first=$(jq --arg f "$exe" '[.vmas[] | select(.path == $f and .offset == 0)][0].start' <<<"$output")
	[ "$bias" -eq "$first" ]
	text=$(readelf -SW "$exe" | awk '$2 == ".text" { print $4 }')
	start=$(jq --arg f "$exe" '[.vmas[] | select(.perms == "r-xp") | .sections[] | select(.name == ".text" and .file == $f)][0].start' <<<"$output")
	[ "$start" -eq $((bias + 0x$text)) ]

	run shikumi pt dump "$TARGET_PID"
	[[ $output == *"# .text "* ]]
	[[ $output == *"non-PIE executable"* ]]
}

@test "shikumi pt translate: each level down to the page, as pagemap says" {
	start_target
	va=$((TARGET_ADDR + 5 * 4096 + 123))
	run shikumi pt translate "$TARGET_PID" "$va" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<<"$output")" = mapped ]
	[ "$(jq '.levels | length' <<<"$output")" -ge 4 ]
	[ "$(jq -r '.levels[-1].level' <<<"$output")" = pte ]
	pfn=$(jq .pfn <<<"$output")
	read -r n bad < <(echo "$va $pfn" | pagemap_check "$TARGET_PID")
	[ "$bad" -eq 0 ]
	[ "$(jq .phys <<<"$output")" -eq $((pfn * 4096 + 123)) ]
	run shikumi pt translate "$TARGET_PID" "$va"
	[[ $output == *"4K page at pfn"* ]]
	# a hole: an empty entry, or no VMA at all
	run shikumi pt translate "$TARGET_PID" 0x10000 --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<<"$output")" != mapped ]
}

@test "shikumi pt stats: a sleeping process's VmRSS lags within the bound of this kernel's RSS counting, and it says which" {
	local p model i sc
	sleep 1000 &
	p=$!
	for ((i = 0; i < 200; i++)); do
		read -ra sc <"/proc/$p/syscall"
		[[ ${sc[0]} == 230 || ${sc[0]} == 35 ]] && break
		nap 0.05
	done
	run shikumi pt stats "$p" --json
	local json=$output
	run shikumi pt stats "$p"
	kill "$p"
	echo "$json"
	echo "$output"
	# per-CPU counters since 6.2; before, each thread's own, synced
	# every 64 faults (split RSS counting)
	case $(uname -r) in
	6.[01].*) model=split_rss ;;
	*) model=percpu ;;
	esac
	[ "$(jq -r .rss.lag_model <<<"$json")" = "$model" ]
	[ "$(jq .rss.threads <<<"$json")" -eq 1 ]
	[ "$(jq .rss.within_slack <<<"$json")" = true ]
	if [ "$(jq .rss.agree <<<"$json")" = false ]; then
		[[ $output == *"within the"*"RSS counting may lag"* ]]
		if [[ $model == percpu ]]; then
			[[ $output == *"since 6.2 VmRSS adds up per-CPU counters"* ]]
		else
			[[ $output == *"before 6.2 each thread adds its RSS changes"* ]]
		fi
	fi
	echo "# VmRSS $(jq .rss.kernel_kb <<<"$json") kB, the walk $(jq .rss.walk_kb <<<"$json") kB, $model, bound $(jq .rss.slack_kb <<<"$json") kB" >&3
}

@test "shikumi pt stats: VmPTE and VmRSS of a stopped process agree with the walk" {
	start_target
	run shikumi pt stats "$TARGET_PID" --json
	[ "$status" -eq 0 ]
	vmpte=$(awk '/^VmPTE:/ { print $2 }' "/proc/$TARGET_PID/status")
	[ "$(jq .vmpte.kernel_kb <<<"$output")" -eq "$vmpte" ]
	[ "$(jq .vmpte.agree <<<"$output")" = true ]
	[ "$(jq '[.per_level[] | select(.level == "pgd")][0].table_pages' <<<"$output")" -eq 1 ]
	[ "$(jq .rss.within_slack <<<"$output")" = true ]
	# the 32 zero pages are mapped but not counted in VmRSS
	[ "$(jq .rss.zero_page_kb <<<"$output")" -ge 128 ]
	run shikumi pt stats "$TARGET_PID"
	[ "$status" -eq 0 ]
	[[ $output == *"VmPTE: the kernel says $vmpte kB"*"they agree"* ]]
}

@test "shikumi pt snapshot and diff: a write through /proc/PID/mem is a new PFN, writable" {
	start_target
	shikumi pt snapshot "$TARGET_PID" -o "$BATS_TEST_TMPDIR/a"
	va=$((TARGET_ADDR + 40 * 4096))
	perl -e 'open(my $m, "+<", "/proc/$ARGV[0]/mem") or die "$!";
		sysseek($m, $ARGV[1], 0) or die "$!"; syswrite($m, "x", 1) == 1 or die "$!"' \
		"$TARGET_PID" "$va"
	shikumi pt snapshot "$TARGET_PID" -o "$BATS_TEST_TMPDIR/b"
	run shikumi pt diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" --json
	[ "$status" -eq 0 ]
	[ "$(jq .counts.pfn_changed <<<"$output")" -ge 1 ]
	[ "$(jq .counts.write_set <<<"$output")" -ge 1 ]
	[ "$(jq ".changes[] | select(.va == $va) | .pfn_changed" <<<"$output")" = true ]
	[ "$(jq -r ".changes[] | select(.va == $va) | .write" <<<"$output")" = set ]
	[ "$(jq -r ".changes[] | select(.va == $va) | .flags_a | index(\"zero\") != null" <<<"$output")" = true ]
	# the rest of the target's mapping did not move
	[ "$(jq "[.changes[] | select(.va >= $TARGET_ADDR and .va < $((TARGET_ADDR + 64 * 4096)))] | length" <<<"$output")" -eq 1 ]
	run shikumi pt diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[[ $output == *"write bit set"* ]]
	run shikumi pt diff "$BATS_TEST_TMPDIR/a" /etc/hostname
	[ "$status" -eq 1 ]
	[[ $output == *"not a snapshot"* ]]
}

@test "shikumi pt demo cow: shared read-only PFNs after fork, copies when the child writes" {
	run shikumi pt demo cow --pages 64 --json
	[ "$status" -eq 0 ]
	j=$output
	[ "$(jq .after_fork.private.same_pfn <<<"$j")" -eq 64 ]
	[ "$(jq .after_fork.private.parent_writable <<<"$j")" -eq 0 ]
	[ "$(jq .after_fork.private.child_writable <<<"$j")" -eq 0 ]
	[ "$(jq .after_child_writes.private_written.different_pfn <<<"$j")" -eq 32 ]
	[ "$(jq .after_child_writes.private_written.child_writable <<<"$j")" -eq 32 ]
	[ "$(jq .after_child_writes.private_not_written.same_pfn <<<"$j")" -eq 32 ]
	[ "$(jq .after_child_writes.parent_private_vs_after_fork.same_pfn <<<"$j")" -eq 64 ]
	[ "$(jq .after_child_writes.shared.same_pfn <<<"$j")" -eq 64 ]
	[ "$(jq .after_child_writes.shared.parent_writable <<<"$j")" -eq 64 ]
	[ "$(jq .after_child_writes.shared.child_writable <<<"$j")" -eq 64 ]
	[ "$(jq .after_parent_writes.parent_private_written.after_writable <<<"$j")" -eq 32 ]
	run shikumi pt demo cow --pages 16
	[ "$status" -eq 0 ]
	[[ $output == *"8 mapped in both: 0 on the same PFN, 8 on different PFNs"* ]]
}

@test "shikumi pt demo mmap and demand: no tables until the memory is written" {
	run shikumi pt demo mmap --json
	[ "$status" -eq 0 ]
	j=$output
	[ "$(jq '[.after_mmap[] | .table_pages] | map(. != 0) | any' <<<"$j")" = false ]
	[ "$(jq .leaves_in_vma <<<"$j")" -eq 0 ]
	[ "$(jq .vmsize_delta_kb <<<"$j")" -eq 1048576 ]
	[ "$(jq -r .translate.result <<<"$j")" = empty ]
	[ "$(jq .leaves_in_vma_after_touch <<<"$j")" -eq 1 ]
	[ "$(jq .after_touch.pte.table_pages <<<"$j")" -eq 1 ]

	run shikumi pt demo demand --size 20 --step 10 --svg "$BATS_TEST_TMPDIR/d.svg" --json
	[ "$status" -eq 0 ]
	xmllint --noout "$BATS_TEST_TMPDIR/d.svg"
	[ "$(jq '.steps | length' <<<"$output")" -eq 3 ]
	[ "$(jq '.steps[0].ptes' <<<"$output")" -eq 0 ]
	[ "$(jq '.steps[2].ptes' <<<"$output")" -eq 5120 ]
	[ "$(jq '.steps[2].pte_pages' <<<"$output")" -eq 10 ]
	[ "$(jq '.steps[2].minflt >= 5120' <<<"$output")" = true ]
	[ "$(jq '.steps[2].vmrss_kb' <<<"$output")" -ge 20000 ]
}

@test "shikumi pt demo thp and sparse: a PMD leaf, and the tables of sparse memory" {
	run shikumi pt demo thp --json
	[ "$status" -eq 0 ]
	[ "$(jq .nohugepage.pte_leaves <<<"$output")" -eq 512 ]
	[ "$(jq .nohugepage.pmd_leaves <<<"$output")" -eq 0 ]
	enabled=$(jq -r .enabled <<<"$output")
	if [[ $enabled == never || $enabled == absent ]]; then
		[ "$(jq .hugepage.pmd_leaves <<<"$output")" -eq 0 ]
	else
		[ "$(jq .hugepage.pmd_leaves <<<"$output")" -eq 1 ]
		[ "$(jq -r '.hugepage.levels[-1].level' <<<"$output")" = pmd ]
		[ "$(jq '.hugepage.page_size' <<<"$output")" -eq $((2 << 20)) ]
	fi

	run shikumi pt demo sparse --pages 64 --svg "$BATS_TEST_TMPDIR/s.svg" --json
	[ "$status" -eq 0 ]
	xmllint --noout "$BATS_TEST_TMPDIR/s.svg"
	ly() { jq ".layouts[$1].$2" <<<"$output"; }
	[ "$(ly 0 pte_pages)" -eq 1 ]
	[ "$(ly 0 pmd_pages)" -eq 1 ]
	[ "$(ly 1 pte_pages)" -eq 64 ]
	[ "$(ly 1 pmd_pages)" -eq 1 ]
	[ "$(ly 2 pte_pages)" -eq 64 ]
	[ "$(ly 2 pmd_pages)" -eq 64 ]
	[ "$(ly 2 leaves)" -eq 64 ]
}

@test "shikumi pt: bad pids, kernel threads, bad ranges, users and a missing module" {
	run shikumi pt dump 2
	[ "$status" -eq 1 ]
	[[ $output == *"pid 2 is a kernel thread: it has no user address space"* ]]
	pid=$(($(cat /proc/sys/kernel/pid_max) - 1))
	while [[ -d /proc/$pid ]]; do pid=$((pid - 1)); done
	run shikumi pt stats "$pid"
	[ "$status" -eq 1 ]
	[[ $output == *"no such process: pid $pid"* ]]
	run shikumi pt dump $$ --range 0x200000-0x100000
	[ "$status" -eq 1 ]
	[[ $output == *"Invalid argument"* ]]
	run shikumi pt translate $$ 0xffffffffff600000
	[ "$status" -eq 1 ]
	[[ $output == *"user space"* ]]
	run shikumi pt dump $$ --range nonsense
	[ "$status" -eq 2 ]
	run shikumi pt dump notapid
	[ "$status" -eq 2 ]
	run as_user shikumi pt dump $$
	[ "$status" -eq 1 ]
	[[ $output == *"needs root (CAP_SYS_ADMIN)"* ]]
	run as_user shikumi pt demo cow
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]

	shikumi unload shikumi_ptdump
	run shikumi pt stats $$
	shikumi load shikumi_ptdump
	[ "$status" -eq 1 ]
	[[ $output == *"shikumi load shikumi_ptdump"* ]]
}

@test "shikumi pt dump, translate and stats: a swapped-out page's swap type and offset, and VmSwap" {
	swap_on
	out=$BATS_TEST_TMPDIR/swap.out
	shikumi-pttest swap hold >"$out" &
	TARGET_PID=$!
	for _ in $(seq 600); do
		grep -q '^back ' "$out" && break
		nap 0.1
	done
	cat "$out"
	kill -0 "$TARGET_PID"
	read -r _ page _ type _ offset < <(grep '^page ' "$out")
	read -r _ back < <(grep '^back ' "$out")
	run shikumi pt translate "$TARGET_PID" "$page"
	echo "$output"
	[[ $output == *"pte["*"not present: swap type $type offset $offset "* ]]
	[[ $output == *"=> swapped out: the page is in slot $offset of swap area $type"* ]]
	run shikumi pt translate "$TARGET_PID" "$page" --json
	[ "$(jq -r .result <<<"$output")" = nonpresent ]
	[ "$(jq -r .kind <<<"$output")" = swap ]
	[ "$(jq .swap_type <<<"$output")" -eq "$type" ]
	[ "$(jq .swap_offset <<<"$output")" -eq "$offset" ]
	[ "$(jq -r '.levels[-1].flags | index("anon")' <<<"$output")" = null ]
	run shikumi pt dump "$TARGET_PID" --full --range "$page-$((page + 4096))"
	echo "$output"
	[[ $output == *" pte -  "*"swap type $type offset $offset "*"pte["* ]]
	run shikumi pt dump "$TARGET_PID" --full --json --range "$page-$((page + 4096))"
	[ "$(jq -r '.vmas[0].entries[0].kind' <<<"$output")" = swap ]
	[ "$(jq '.vmas[0].entries[0].swap_offset' <<<"$output")" -eq "$offset" ]
	[ "$(jq '.vmas[0].entries[0].pfn' <<<"$output")" = null ]
	run shikumi pt dump "$TARGET_PID" --range "$back-$((back + 8 * 1024 * 1024))"
	echo "$output"
	[[ $output == *" pte "*"swap type $type"* ]]
	# VmSwap counts the swap entries in the tables, as the walk does,
	# within the lag of the kernel's counters
	kill -STOP "$TARGET_PID"
	run shikumi pt stats "$TARGET_PID" --json
	echo "$output"
	entries=$(jq .swap.entries <<<"$output")
	[ "$entries" -ge 1536 ]
	kb=$(jq .swap.kernel_kb <<<"$output")
	d=$((kb - entries * 4))
	[ "${d#-}" -le "$(jq .rss.slack_kb <<<"$output")" ]
	echo "# VmSwap $kb kB, the walk $entries swap entries" >&3
	run shikumi pt stats "$TARGET_PID"
	[[ $output == *"VmSwap: the kernel says $kb kB; the walk: $entries swap entries"* ]]
}

@test "shikumi pt dump --json: a summary of the caller's own shell parses" {
	run shikumi pt dump $$ --json
	[ "$status" -eq 0 ]
	jq -e '.vmas | length > 5' <<<"$output" >/dev/null
	jq -e '[.vmas[].runs[].count] | add > 10' <<<"$output" >/dev/null
	run shikumi pt dump $$ --full --pretty
	[ "$status" -eq 0 ]
	jq -e '.view == "full"' <<<"$output" >/dev/null
}
