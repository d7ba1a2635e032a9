#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi_ptdump: every present page's PFN against /proc/PID/pagemap,
# page-table pages against the kernel's own VmPTE, copy-on-write after
# fork, errors and refusals, and dumps of processes that fork, munmap and
# exit meanwhile.  build/bin/shikumi-pttest (tests/helpers/pttest.c) makes
# the processes and reads the raw dumps.

load common

DBG=/sys/kernel/debug/shikumi/ptdump
DUMP=$DBG/dump

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	module_loaded shikumi_ptdump || shikumi load shikumi_ptdump
	held=
	churners=()
}

teardown() {
	local p
	for p in $held "${churners[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	{ exec 7>&- 8>&- 9>&-; } 2>/dev/null || true
	common_teardown
}

# wait_paused PID: until PID sleeps in pause(2) (34 on x86_64), however
# long it takes a busy machine to get there
wait_paused() {
	local nr
	for _ in $(seq 600); do
		read -r nr _ <"/proc/$1/syscall" && [[ $nr == 34 ]] && return 0
		nap 0.1
	done
	echo "$1 never slept in pause()"
	return 1
}

# Start shikumi-pttest hold in the background, wait until it is ready and
# stop it: held=PID, and the addresses it printed in anon, anon_end, thp,
# hzero (read only) and sparse (one page written, then 2 MiB untouched).
hold() {
	local out=$BATS_TEST_TMPDIR/hold.out f=$BATS_TEST_TMPDIR/file
	dd if=/dev/urandom of="$f" bs=1M count=8 status=none
	shikumi-pttest hold "$f" >"$out" &
	held=$!
	for _ in $(seq 600); do
		[[ -s $out ]] && break
		nap 0.1
	done
	read -r _ _ _ _ _ anon _ anon_end _ thp _ _ _ _ hzero _ sparse <"$out"
	# use_stack() touches its 1 MiB before pause()
	wait_paused "$held"
	kill -STOP "$held"
}

# thp_off: true when THP is off, or a THP fault fell back to 4K pages
# since thp_fallback_mark (memory too fragmented for a 2 MiB page)
thp_fallback_mark() {
	fb0=$(awk '$1 == "thp_fault_fallback" { print $2 }' /proc/vmstat)
}
thp_off() {
	grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled ||
		[ "$(awk '$1 == "thp_fault_fallback" { print $2 }' /proc/vmstat)" != "${fb0:-0}" ]
}

# query FD WORDS...: write a query to an open dump file, as one write
query() {
	local fd=$1
	shift
	printf '%s' "$*" >&"$fd"
}

# pagemap_pfn PID VA: the PFN /proc/PID/pagemap gives, in hex
# A dump with the Accessed bit masked: the "A" column, and bit 5 (0x20) of
# every raw entry value.  The kernel's page aging (7.x's MGLRU walks page
# tables) clears it in a stopped process's entries between two dumps.
no_accessed() {
	sed -E 's/ (USR|   ) [A ] / \1 . /g' "$@" | awk '{
		out = ""
		while (match($0, /0x[0-9a-f]+/)) {
			v = substr($0, RSTART, RLENGTH)
			if (RLENGTH == 18) {	# a raw entry value
				d = index("0123456789abcdef", substr(v, 17, 1)) - 1
				if (int(d / 2) % 2)
					d -= 2
				v = substr(v, 1, 16) substr("0123456789abcdef", d + 1, 1) substr(v, 18)
			}
			out = out substr($0, 1, RSTART - 1) v
			$0 = substr($0, RSTART + RLENGTH)
		}
		print out $0
	}'
}

pagemap_pfn() {
	local e
	e=$(dd if=/proc/$1/pagemap bs=8 skip=$(($2 / 4096)) count=1 status=none |
		od -An -tx8 | tr -d ' ')
	printf '0x%x\n' $((0x$e & ((1 << 55) - 1)))
}

@test "ptdump: every present page's PFN equals pagemap's, over 10,000 pages of heap, stack, file and THP" {
	thp_fallback_mark
	hold
	run shikumi-pttest check "$held"
	echo "$output"
	[ "$status" -eq 0 ]
	read -r _ pages _ pm _ bad <<<"${lines[0]}"
	[ "$pages" -ge 10000 ]
	[ "$pages" -eq "$pm" ]
	[ "$bad" -eq 0 ]
	read -r _ heap _ stack _ file _ anonp _ thpp _ <<<"${lines[1]}"
	[ "$heap" -ge 2048 ]
	[ "$stack" -ge 256 ]
	[ "$file" -ge 2048 ]
	[ "$anonp" -ge 6144 ]
	if thp_off; then
		skip "THP is off, or fell back to 4K pages: no PMD leaf to check"
	fi
	[ "$thpp" -ge 512 ]
}

@test "ptdump: page-table pages per level agree with the kernel's VmPTE" {
	hold
	run cat /proc/"$held"/status
	vmpte=$(awk '/^VmPTE:/ { print $2 }' /proc/"$held"/status)
	exec 7<>"$DUMP"
	query 7 "pid=$held view=stats"
	run cat <&7
	echo "$output"
	[ "$status" -eq 0 ]
	bytes=$(awk '$1 == "vmpte_bytes" { print $2 }' <<<"$output")
	ptes=$(awk '$1 == "tables_pte" { print $2 }' <<<"$output")
	pages=$(awk '$1 == "pages_4k" { print $2 }' <<<"$output")
	echo "VmPTE ${vmpte} kB, walk ${bytes} bytes, with the deposited PTE tables"
	# one deposited PTE table per anonymous huge PMD
	[ "$(awk '$1 == "pte_tables_deposited" { print $2 }' <<<"$output")" -eq \
		"$(awk '$1 == "pages_2m" { print $2 }' <<<"$output")" ]
	[ "$bytes" -eq $((vmpte * 1024)) ]
	[ "$ptes" -ge 20 ]
	[ "$pages" -ge 10000 ]
	[ "$(awk '$1 == "tables_pgd" { print $2 }' <<<"$output")" -eq 1 ]
}

@test "ptdump: cat shows cat's own tables; summary merges a run, full lists every page" {
	run cat "$DUMP"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "# shikumi_ptdump: pid "*" (cat), 0x0-0x"*", summary" ]]
	grep -q ' r-xp .* file .*/cat$' <<<"$output"
	grep -q ' stack ' <<<"$output"

	hold
	exec 7<>"$DUMP"
	query 7 "pid=$held range=$anon-$anon_end"
	run cat <&7
	echo "$output"
	# 24 MiB, touched in order, no THP: one VMA, and its 6144 PTEs in a
	# run, or in a few when the kernel's page aging (MGLRU) has cleared
	# some accessed bits meanwhile
	runs=$(grep '^  0x' <<<"$output")
	[ "$(wc -l <<<"$runs")" -le 32 ]
	[ "$(awk '{ n += $2 } END { print n }' <<<"$runs")" -eq 6144 ]
	[ "$(grep -Ec ' x 4K pte +P  RW USR [A ] D NX .* anon excl$' <<<"$runs")" -eq "$(wc -l <<<"$runs")" ]
	head -1 <<<"$runs" | grep -q "^  $(printf '0x%016x' "$anon")-"
	tail -1 <<<"$runs" | grep -q -- "-$(printf '0x%016x' "$anon_end") "

	query 7 "pid=$held view=full range=$anon-$((anon + 16 * 4096))"
	run cat <&7
	[ "$(grep -c ' pte\[' <<<"$output")" -eq 16 ]
	# every line names each level, and its PFN is pagemap's
	line=$(grep "^$(printf '0x%016x' $((anon + 5 * 4096))) " <<<"$output")
	echo "$line"
	[[ $line == *" pgd["*" pud["*" pmd["*" pte["* ]]
	[[ $line == *" pfn=$(pagemap_pfn "$held" $((anon + 5 * 4096))) "* ]]
}

@test "ptdump: translate shows every level down to a 4K page and to a THP's PMD" {
	thp_fallback_mark
	hold
	exec 7<>"$DUMP"
	va=$((anon + 7 * 4096 + 123))
	query 7 "pid=$held view=translate addr=$va"
	run cat <&7
	echo "$output"
	[[ $output == *"pgd["*"table at pfn"* ]]
	[[ $output == *"pmd["*"table at pfn"* ]]
	pfn=$(pagemap_pfn "$held" "$va")
	grep -q "^pte\[ *$(((va >> 12) & 511))\]  0x[0-9a-f]*  4K page at pfn $pfn " <<<"$output"
	grep -q "^$(printf '0x%x' "$va") -> physical address $(printf '0x%x' $((pfn * 4096 + 123)))$" <<<"$output"

	# never touched, under a PMD table that exists: the PMD entry is empty
	query 7 "pid=$held view=translate addr=$((sparse + 2 * 1024 * 1024))"
	run cat <&7
	echo "$output"
	grep -q '^pmd\[ *[0-9]*\]  0x0000000000000000  empty' <<<"$output"
	[[ $output != *"pte["* ]]

	if thp_off; then
		skip "THP is off, or fell back to 4K pages"
	fi
	query 7 "pid=$held view=translate addr=$thp"
	run cat <&7
	echo "$output"
	grep -q "^pmd\[ *[0-9]*\]  0x[0-9a-f]*  2M page at pfn $(pagemap_pfn "$held" "$thp") .* PSE .*anon excl" <<<"$output"
	[[ $output != *"pte["* ]]

	# read and never written: the huge zero page, if THP maps it
	if [ "$(cat /sys/kernel/mm/transparent_hugepage/use_zero_page)" = 1 ]; then
		query 7 "pid=$held view=translate addr=$hzero"
		run cat <&7
		echo "$output"
		grep -q "^pmd\[ *[0-9]*\]  0x[0-9a-f]*  2M page at pfn .* ro .* PSE .*zero" <<<"$output"
	fi

	# no VMA: no walk
	query 7 "pid=$held view=translate addr=0x1000"
	run cat <&7
	echo "$output"
	[[ $output == *"is in no VMA"* ]]
}

@test "ptdump: hugetlb pages, shared and private, are PMD leaves with pagemap's PFNs" {
	nr0=$(cat /proc/sys/vm/nr_hugepages)
	echo $((nr0 + 3)) >/proc/sys/vm/nr_hugepages
	if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt $((nr0 + 3)) ]; then
		echo "$nr0" >/proc/sys/vm/nr_hugepages
		skip "no 2 MiB pages to reserve for hugetlb"
	fi
	out=$BATS_TEST_TMPDIR/huge.out
	shikumi-pttest hugetlb >"$out" &
	held=$!
	for _ in $(seq 600); do
		[[ -s $out ]] && break
		nap 0.1
	done
	read -r _ _ _ shared _ private <"$out"
	kill -STOP "$held"
	run shikumi-pttest check "$held"
	echo "$output"
	[ "$status" -eq 0 ]
	exec 7<>"$DUMP"
	query 7 "pid=$held range=$shared-$((shared + 4 * 1024 * 1024))"
	run cat <&7
	echo "$output"
	# the shared mapping: hugetlbfs pages, file-backed, 2 of them
	grep -Eq ' rw-s .* file ' <<<"$output"
	grep -Eq '^  0x[0-9a-f]+-0x[0-9a-f]+ +2 x 2M pmd +P  RW USR A D NX .*PSE .*file ' <<<"$output"
	query 7 "pid=$held view=translate addr=$private"
	run cat <&7
	echo "$output"
	grep -q "^pmd\[ *[0-9]*\]  0x[0-9a-f]*  2M page at pfn $(pagemap_pfn "$held" "$private") .* PSE .*anon excl" <<<"$output"
	kill -9 "$held"
	wait "$held" 2>/dev/null || true
	held=
	echo "$nr0" >/proc/sys/vm/nr_hugepages
}

@test "ptdump: copy-on-write after fork, and MAP_SHARED, in both processes" {
	run shikumi-pttest cow
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *FAIL* ]]
	[ "$(grep -c '^ok:' <<<"$output")" -eq 10 ]
}

@test "ptdump: two open files dump two processes at once without mixing" {
	# two stopped processes; their anonymous areas change no more (the
	# file pages' shared flags may: other processes map them too)
	hold
	h1=$held a1=$anon e1=$anon_end
	hold
	exec 7<>"$DUMP" 8<>"$DUMP"
	query 7 "pid=$h1 view=full range=$a1-$e1"
	query 8 "pid=$held view=full range=$anon-$anon_end"
	a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	: >"$a"
	: >"$b"
	# interleave reads of 64 KiB
	for _ in $(seq 8); do
		dd bs=64k count=1 status=none <&7 >>"$a"
		dd bs=64k count=1 status=none <&8 >>"$b"
	done
	cat <&7 >>"$a"
	cat <&8 >>"$b"
	kill -9 "$h1"
	exec 9<>"$DUMP"
	query 9 "pid=$held view=full range=$anon-$anon_end"
	cmp <(no_accessed "$b") <(cat <&9 | no_accessed)
	head -1 "$a" | grep -q "pid $h1 (shikumi-pttest)"
	head -1 "$b" | grep -q "pid $held (shikumi-pttest)"
	[ "$(grep -c ' pte\[' "$a")" -eq 6144 ]
	[ "$(grep -c ' pte\[' "$b")" -eq 6144 ]
	# the PFNs differ: each file shows its own process
	[ "$(grep -o 'pfn=0x[0-9a-f]*' "$a" | sort | comm -12 - <(grep -o 'pfn=0x[0-9a-f]*' "$b" | sort) | wc -l)" -eq 0 ]
}

@test "ptdump: bad queries, a missing pid and a kernel thread get clear errors" {
	exec 7<>"$DUMP"
	run bash -c 'printf "pid=999999999" >&7'
	[[ $output == *"No such process"* ]]
	kpid=$(pgrep -x kthreadd)
	run bash -c "printf 'pid=$kpid' >&7"
	[[ $output == *"No such device or address"* ]]
	for q in "range=0x2000-0x1000" "range=0x1000-0xffffffffffffffff" \
		"view=bogus" "color=red" "pid=$$ view=summary format=raw" \
		"view=translate" "addr=0x1000" "pid=-1" "range=0x1000"; do
		run bash -c "printf '%s' '$q' >&7"
		echo "$q: $output"
		[[ $output == *"Invalid argument"* ]]
	done
	# after refusals, the file still answers its last good query
	query 7 "pid=$$ view=stats"
	run cat <&7
	[[ ${lines[0]} == *"pid $$ "* ]]
	# raw records are whole: a read shorter than one is refused
	query 7 "pid=$$ view=full format=raw"
	run dd bs=16 count=1 status=none <&7
	[[ $output == *"Invalid argument"* ]]
	exec 7>&-
}

@test "ptdump: swapped-out pages hold pagemap's swap type and offset; present and PROT_NONE pages its PFN" {
	swap_on
	run shikumi-pttest swap
	echo "$output"
	[ "$status" -eq 0 ]
	read -r _ swapped _ present _ _ _ moved _ bad _ protnone <<<"${lines[0]}"
	[ "$bad" -eq 0 ]
	[ "$moved" -le 20 ]
	# 3/4 of the 2048 pages at least, and the 128 read back
	[ "$swapped" -ge 1536 ]
	[ "$present" -ge 128 ]
	[ "$protnone" -eq 16 ]
	[[ ${lines[1]} == "page 0x"*" type "*" offset "* ]]
	echo "# $swapped swapped pages agree with pagemap's type and offset, $present present ones its PFN" >&3
}

@test "ptdump: the text views say where a swapped-out page is, and what a fault on it does" {
	swap_on
	out=$BATS_TEST_TMPDIR/swap.out
	shikumi-pttest swap hold >"$out" &
	held=$!
	for _ in $(seq 600); do
		grep -q '^back ' "$out" && break
		nap 0.1
	done
	cat "$out"
	kill -0 "$held"
	read -r _ page _ type _ offset < <(grep '^page ' "$out")
	read -r _ back < <(grep '^back ' "$out")
	exec 7<>"$DUMP"
	query 7 "pid=$held view=translate addr=$page"
	run cat <&7
	echo "$output"
	# SD: a new anonymous page is soft-dirty, and its swap entry keeps it
	[[ ${lines[-2]} =~ ^pte\[[\ 0-9]+\]\ \ 0x[0-9a-f]{16}\ \ swap\ type\ $type\ offset\ $offset(\ SD)?$ ]]
	[[ ${lines[-1]} == *"swapped out, to slot $offset of swap area $type: an access is a major fault"* ]]
	query 7 "pid=$held view=full range=$page-$((page + 4096))"
	run cat <&7
	[ "$(grep -Ec "pte\[[ 0-9]*\]=0x[0-9a-f]{16} swap type $type offset $offset( SD)?\$" <<<"$output")" -eq 1 ]
	# a summary merges the swap entries into runs, by swap area
	query 7 "pid=$held view=summary range=$back-$((back + 8 * 1024 * 1024))"
	run cat <&7
	echo "$output"
	grep -Eq "^  0x[0-9a-f]{16}-0x[0-9a-f]{16} +[0-9]+ x    pte  swap type $type( SD)?\$" <<<"$output"
	exec 7>&-
}

@test "ptdump: an unprivileged process's pagemap hides where its pages are swapped, and the dump is refused" {
	swap_on
	run as_user shikumi-pttest swap-user
	echo "$output"
	[ "$status" -eq 0 ]
	read -r _ swapped _ located _ dump <<<"$output"
	[ "$swapped" -ge 1536 ]
	[ "$located" -eq 0 ]
	[[ $dump == EACCES || $dump == EPERM ]]
}

@test "ptdump: unprivileged callers are refused, and so is root without CAP_SYS_ADMIN" {
	run as_user cat "$DUMP"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	run setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin cat "$DUMP"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"Operation not permitted"* ]]
}

@test "ptdump: memory per dump is fixed, and an open dump holds the module" {
	hold
	exec 7<>"$DUMP"
	query 7 "pid=$held view=full"
	dd bs=4096 count=1 status=none <&7 >/dev/null
	per=$(awk '$1 == "bytes_per_open_file" { print $2 }' "$DBG/status")
	[ "$(awk '$1 == "memory_bytes" { print $2 }' "$DBG/status")" -eq "$per" ]
	[ "$per" -lt $((128 * 1024)) ]
	run shikumi unload shikumi_ptdump
	[ "$status" -ne 0 ]
	module_loaded shikumi_ptdump
	exec 7>&-
	[ "$(awk '$1 == "memory_bytes" { print $2 }' "$DBG/status")" -eq 0 ]
	shikumi unload shikumi_ptdump
	! module_loaded shikumi_ptdump
	shikumi load shikumi_ptdump
}

@test "ptdump: dumps of processes that fork, munmap and exit, concurrently, leave the kernel log clean" {
	# whole dumps only, several of each (8 full raw dumps in 20 s on
	# single-threaded TCG, 6.1; 2 on the debug kernel, where KASAN and
	# lockdep slow the walk down)
	local min=3
	! debug_kernel || min=1
	# the churners outlive the dumpers (900 s at most: killed below)
	shikumi-pttest churn 900 &
	churners+=($!)
	shikumi-pttest churn 900 &
	churners+=($!)
	# dumper VIEW FORMAT: dump the churning processes for 20 s, and on
	# until $min dumps came out whole, however slow the machine (600 s at
	# most); print how many did (the processes may exit at any moment)
	dumper() {
		local t0=$SECONDS p ok=0 f=$BATS_TEST_TMPDIR/$1.$2
		while ((SECONDS < t0 + 20 || (ok < min && SECONDS < t0 + 600))); do
			for p in $(pgrep -f 'shikumi-pttest churn'); do
				{ printf 'pid=%s view=%s format=%s' "$p" "$1" "$2" >&6 &&
					cat <&6 >"$f"; } 6<>"$DUMP" 2>/dev/null || continue
				case $2 in
				raw)	# the last record is END
					[ "$(tail -c 32 "$f" | od -An -tu1 -N1 | tr -d ' ')" = 8 ] &&
						ok=$((ok + 1)) ;;
				text)	head -1 "$f" | grep -q "^# shikumi_ptdump: pid $p " &&
						ok=$((ok + 1)) ;;
				esac
			done
		done
		echo "$ok"
	}
	dumper full raw >"$BATS_TEST_TMPDIR/n1" &
	d1=$!
	dumper summary text >"$BATS_TEST_TMPDIR/n2" &
	d2=$!
	dumper stats text >"$BATS_TEST_TMPDIR/n3" &
	d3=$!
	wait "$d1" "$d2" "$d3"
	# the churners ran throughout, and did not die of an error
	kill -0 "${churners[@]}"
	echo "whole dumps: $(cat "$BATS_TEST_TMPDIR"/n?)"
	[ "$(cat "$BATS_TEST_TMPDIR"/n1)" -ge "$min" ]
	[ "$(cat "$BATS_TEST_TMPDIR"/n2)" -ge "$min" ]
	[ "$(cat "$BATS_TEST_TMPDIR"/n3)" -ge "$min" ]
}

@test "ptdump: a process whose main thread has exited is dumped through the thread that runs on" {
	local out=$BATS_TEST_TMPDIR/leader.out pid tid want got
	shikumi-pttest leader-exit >"$out" &
	held=$!
	for _ in $(seq 600); do
		[[ -s $out ]] && break
		nap 0.1
	done
	read -r _ pid _ tid <"$out"
	[ "$pid" = "$held" ]
	# the leader, a zombie, has no address space: /proc/PID/maps is empty
	[ "$(wc -c <"/proc/$pid/maps")" -eq 0 ]
	# the thread's maps list the process's VMAs (and the vsyscall page,
	# which is no VMA)
	want=$(awk '$NF != "[vsyscall]" { split($1, a, "-"); printf "0x%016s\n", a[1] }' \
		"/proc/$pid/task/$tid/maps" | tr ' ' 0)
	exec 7<>"$DUMP"
	query 7 "pid=$pid view=summary"
	run cat <&7
	[ "$status" -eq 0 ]
	got=$(grep -oE '^0x[0-9a-f]{16}-' <<<"$output" | tr -d -)
	[ -n "$got" ]
	[ "$got" = "$want" ]
}
