# SPDX-License-Identifier: GPL-2.0
#
# scripts/check's jobs: which guests a run boots, in what order, and the
# scheduler that keeps --jobs of them running.  Sourced by scripts/check,
# which sets root, out, phases, state, jobs, files, ready and debug_part.
#
# A job is one guest boot: a kernel (6.1, 6.12, 7.x), a half of a
# kernel's suite (6.1:1, 6.1:2), or a part of the debug kernel's suite
# (debug:a, debug:b).
#
# With more than one lane, the whole suite of each of Debian's kernels is
# split over two guests, by the seconds each file took on that kernel the
# last time (check-file-times): two boots of 5-15 s more, and jobs of
# 300-450 s that fill the lanes around the debug kernel's two parts of
# 1,000-1,300 s, which alone left the lanes 200-400 s apart.

# The debug kernel's suite runs about three times slower than the others,
# so it is split over two boots, each with its own kmemleak scan at the
# end: part a is the fault injection and (rotating) the fuzzing and stress
# tests, with the planted bugs at the end; part b is the load cycles and
# the rest of the suite, or (rotating) a third of it.
RELIABILITY=(fault fuzz cycles stress)
# What part a runs in each third of a rotation, besides fault injection:
# the fuzzing and stress tests, split by their cost on the debug kernel
# (fuzz: ramdisk 330-390 s, ptdump 130-180, cstrace 145-175, chrdev
# 90-100; stress 120 s and its set-up).
ROTATION_A=('^fuzz: ramdisk$' '^fuzz: (chrdev|cstrace)$' '^(fuzz: ptdump$|stress: )')

# The in-guest DKMS build's seconds before this machine has measured it
# (check-times' "dkms" line replaces it).
DKMS_ESTIMATE=240

# The file name of a job's results: debug:a -> debug-a
job_file() {
	echo "${1//:/-}"
}

# Prepare kernel K (debug: build the debug kernel if not cached; 7.x:
# bootstrap the sid root if missing) and its modules, in the background;
# K's jobs start once $out/K.prep holds the status
prepare_bg() { # K
	local k=$1 rc

	touch "$out/$k.bg"
	"$root/scripts/phase" "$phases" "build $k" -- \
		"$root/scripts/lab" --kernel "$k" --build-only >"$out/$k-prep.log" 2>&1
	rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "check: cannot prepare kernel $k:" >&2
		tail -n 40 "$out/$k-prep.log" >&2
	fi
	echo "$rc" >"$out/$k.prep"
}

# The kernels that take turns under rotation: at the second boot with
# page-table isolation, and at the in-guest package install with its
# DKMS build (7.x's in the sid root it came from, entered as the
# machine's userspace: tests/install.bats).  Each kernel has one turn in
# three runs, and never both at once.
PTI_ROTATION=(6.1 6.12 7.x)
DKMS_ROTATION=(6.1 6.12 7.x)

# Decide what rotates this run (with --debug-part, as in CI), and print
# it: the debug kernel's parts (sets PART_A_FILES, PART_A_FILTER and
# PART_B_FILES, the cycles first), the kernel that builds with DKMS in
# the guest (DKMS_ON), and the one booted a second time with page-table
# isolation for tests/pti.bats (PTI_ON; without rotation, the first ready)
plan_rotation() {
	local f name functional=() last third i k

	for f in "$root"/tests/*.bats; do
		name=$(basename "$f" .bats)
		[[ " ${RELIABILITY[*]} " == *" $name "* ]] || functional+=("tests/$name.bats")
	done
	PART_A_FILES=(tests/fault.bats tests/fuzz.bats tests/stress.bats)
	PART_A_FILTER=
	PART_B_FILES=(tests/cycles.bats "${functional[@]}")
	DKMS_ON=
	PTI_ON=
	for k in "${PTI_ROTATION[@]}"; do
		[[ -n $PTI_ON || " ${ready[*]} " != *" $k "* ]] || PTI_ON=$k
	done
	[[ $debug_part -eq 1 ]] || return 0

	last=$(cat "$state/check-debug-part" 2>/dev/null || echo 2)
	[[ $last =~ ^[0-2]$ ]] || last=2
	third=$(((last + 1) % 3))
	mkdir -p "$state" && echo "$third" >"$state/check-debug-part"
	DKMS_ON=${DKMS_ROTATION[third]}
	PTI_ON=${PTI_ROTATION[(third + 1) % 3]}
	for k in "${PTI_ROTATION[@]}"; do
		[[ " ${ready[*]} " == *" $k "* ]] || DKMS_ON= PTI_ON=
	done
	echo "check: rotation $((third + 1)) of 3 (the next run takes the next):"
	[[ -z $DKMS_ON ]] ||
		echo "check:   the in-guest DKMS build runs on $DKMS_ON (the host builds for all three)"
	[[ -z $PTI_ON ]] ||
		echo "check:   page-table isolation (tests/pti.bats) runs on $PTI_ON"
	[[ " ${ready[*]} " == *" debug "* ]] || return 0
	PART_B_FILES=(tests/cycles.bats)
	for i in "${!functional[@]}"; do
		((i % 3 == third)) && PART_B_FILES+=("${functional[i]}")
	done
	PART_A_FILTER="^fault: |${ROTATION_A[third]}"
	PART_A_FILES=(tests/fault.bats)
	[[ ${ROTATION_A[third]} != *fuzz* ]] || PART_A_FILES+=(tests/fuzz.bats)
	[[ ${ROTATION_A[third]} != *stress* ]] || PART_A_FILES+=(tests/stress.bats)
	echo "check:   debug kernel, part a: fault injection, and the tests matching '${ROTATION_A[third]}'"
	echo "check:   debug kernel, part b: ${PART_B_FILES[*]} (the cycles every run)"
}

# The jobs of the kernels that are ready, one per line; with the whole
# suite, a short boot of PTI_ON with pti=on (pti:KERNEL)
job_list() {
	local k

	[[ -z ${PTI_ON:-} || ${#files[@]} -ne 0 ]] || echo "pti:$PTI_ON"
	for k in "${ready[@]}"; do
		if [[ $k == debug && ${#files[@]} -eq 0 && ($jobs -gt 1 || $debug_part -eq 1) ]]; then
			echo debug:a
			echo debug:b
		elif [[ $k != debug && ${#files[@]} -eq 0 && $jobs -gt 1 ]]; then
			echo "$k:1 $(half_files "$k" 1 cost)"
			echo "$k:2 $(half_files "$k" 2 cost)"
		else
			echo "$k"
		fi
	done
}

# The files of half N (1 or 2) of kernel K's suite, or with "cost" the
# seconds they took on K the last time, the boot included (nothing when K
# was never timed).  Heaviest first, each file goes to the half with fewer
# seconds so far; a file never timed counts 20 s.  The in-guest DKMS build
# counts in its file on the kernel whose turn it is.
half_files() { # K N [cost]
	local f

	for f in "$root"/tests/*.bats; do
		echo "${f##*/}"
	done | awk -v k="$1" -v n="$2" -v cost="${3:-}" -v dkms_on="${DKMS_ON:-}" \
		-v dkms="$DKMS_ESTIMATE" \
		-v times="$state/check-file-times" -v jobtimes="$state/check-times" '
	BEGIN {
		while ((getline l < times) > 0) {
			split(l, f, " ")
			if (f[1] == k) {
				t[f[2]] = f[3]
				known = 1
			}
		}
		while ((getline l < jobtimes) > 0) {
			split(l, f, " ")
			if (f[1] == "dkms")
				dkms = f[2]
		}
	}
	{
		m++
		name[m] = $0
		c[m] = ($0 in t) ? t[$0] : 20
		if ($0 == "install.bats" && k == dkms_on)
			c[m] += dkms
	}
	END {
		for (i = 1; i <= m; i++) {
			o[i] = i
			for (j = i; j > 1 && c[o[j]] > c[o[j - 1]]; j--) {
				x = o[j]; o[j] = o[j - 1]; o[j - 1] = x
			}
		}
		for (i = 1; i <= m; i++) {
			h = load[1] <= load[2] ? 1 : 2
			load[h] += c[o[i]]
			half[o[i]] = h
		}
		if (cost != "") {
			# the boot and the runner before the first test
			if (known)
				printf "%d\n", load[n] + 15
			exit
		}
		for (i = 1; i <= m; i++)
			if (half[i] == n)
				print "tests/" name[i]
	}'
}

# Jobs on stdin ("JOB [SECONDS]"), in the order that finishes soonest by
# this machine's last run (or the seconds given, or an estimate).  A lane
# takes the next job as soon as it is free, so an order is tried by
# playing it out over $jobs lanes: every order is searched, depth first,
# longest first among equals, and a branch is left as soon as it cannot
# end sooner than the best so far (it already ends later, or its work
# spread evenly over the lanes would).  The in-guest DKMS build (about 4
# minutes) is kept apart and added to the kernel whose turn it is (a half
# of a kernel's suite is given its seconds with the build counted).
longest_first() {
	awk -v times="$state/check-times" -v dkms_on="$DKMS_ON" -v lanes="${jobs:-1}" \
		-v dkms="$DKMS_ESTIMATE" '
	BEGIN {
		est["debug:a"] = 1300; est["debug:b"] = 1000
		est["debug"] = 4000
		est["6.12"] = 1300; est["6.1"] = 1050; est["7.x"] = 850
		est["dkms"] = dkms; est["pti"] = 60
		while ((getline line < times) > 0) {
			split(line, f, " ")
			est[f[1]] = f[2]
		}
		if (dkms_on != "")
			est[dkms_on] += est["dkms"]
		if (lanes < 1)
			lanes = 1
	}
	NF {
		key = $1
		sub(/^pti:.*/, "pti", key)
		n++
		name[n] = $1
		if (NF > 1)
			t[n] = $2
		else if (key in est)
			t[n] = est[key]
		else if (key ~ /:[12]$/ && substr(key, 1, length(key) - 2) in est)
			t[n] = int(est[substr(key, 1, length(key) - 2)] / 2)
		else
			t[n] = 1000
		left += t[n]
	}
	# place the jobs not yet placed, from position k on; end: the latest
	# lane so far; left: the seconds of the jobs not yet placed
	function search(k, end, left,   j, l, min, sum, last, e) {
		sum = left
		for (l = 1; l <= lanes; l++)
			sum += load[l]
		if (best >= 0 && (end >= best || sum / lanes >= best))
			return
		if (k > n) {
			best = end
			for (j = 1; j <= n; j++)
				order[j] = perm[j]
			return
		}
		min = 1
		for (l = 2; l <= lanes; l++)
			if (load[l] < load[min])
				min = l
		last = -1
		for (j = 1; j <= n; j++) {
			if (used[byt[j]] || t[byt[j]] == last)
				continue
			last = t[byt[j]]
			used[byt[j]] = 1
			perm[k] = byt[j]
			load[min] += t[byt[j]]
			e = load[min] > end ? load[min] : end
			search(k + 1, e, left - t[byt[j]])
			load[min] -= t[byt[j]]
			used[byt[j]] = 0
		}
	}
	END {
		# byt: the jobs longest first, stable
		for (i = 1; i <= n; i++) {
			byt[i] = i
			for (j = i; j > 1 && t[byt[j]] > t[byt[j - 1]]; j--) {
				k = byt[j]; byt[j] = byt[j - 1]; byt[j - 1] = k
			}
		}
		for (i = 1; i <= n; i++)
			order[i] = byt[i]
		best = -1
		search(1, 0, left)
		for (i = 1; i <= n; i++)
			print name[order[i]]
	}'
}

# Remember how long each job took, for the next run's order: only of a
# whole suite, not of a few files; the in-guest DKMS build's time apart
remember_times() {
	local job rc secs dkms

	[[ ${#files[@]} -eq 0 ]] || return 0
	mkdir -p "$state" || return 0
	for job in "$@"; do
		read -r _ rc secs <"$out/$(job_file "$job").rc" || continue
		[[ $rc -eq 0 && $secs -gt 0 ]] || continue
		dkms=$(tr -d '\r' <"$out/$(job_file "$job").log" | awk '
			/^ok [0-9]+ dkms: build and install .* in [0-9]+ms$/ {
				print int($NF / 1000); exit
			}')
		if [[ -n $dkms ]]; then
			secs=$((secs - dkms))
			remember_time dkms "$dkms"
		fi
		[[ $job != pti:* ]] || job=pti
		remember_file_times "$job" "${dkms:-0}"
		# a half's seconds come from its files' (half_files)
		[[ $job == *:[12] ]] || remember_time "$job" "$secs"
	done
}

# Each file's seconds in JOB, a kernel or a half of one, for the next
# run's halves (check-file-times: "KERNEL FILE SECONDS"); the in-guest
# DKMS build's DKMS seconds apart
remember_file_times() { # JOB DKMS
	local k=${1%%:*} times=$root/build/test-results/$(job_file "$1").files

	[[ $k != debug && $k != pti && -s $times ]] || return 0
	touch "$state/check-file-times"
	awk -v k="$k" -v dkms="$2" '
		FNR == NR {
			if ($1 == "install.bats")
				$2 = $2 > dkms ? $2 - dkms : 0
			if (NF == 2)
				now[$1] = $2
			next
		}
		!($1 == k && $2 in now)
		END {
			for (f in now)
				print k, f, now[f]
		}' "$times" "$state/check-file-times" >"$state/check-file-times.new"
	mv "$state/check-file-times.new" "$state/check-file-times"
}

remember_time() { # JOB SECONDS
	grep -v "^$1 " "$state/check-times" 2>/dev/null >"$state/check-times.new"
	echo "$1 $2" >>"$state/check-times.new"
	mv "$state/check-times.new" "$state/check-times"
}

# One guest: its output goes to build/check/JOB.log, its kernel log to
# build/check/JOB.dmesg.txt, a line per finished test to the terminal
# (scripts/check-progress), and its status and wall time to
# build/check/JOB.rc
run_one() {
	local job=$1 k=${1%%:*} name rc timeout=2400 run=(tests/run) dkms= lab=() pti= half

	name=$(job_file "$job")
	run+=(--name "$name")
	case $job in
	debug:a)
		[[ -z $PART_A_FILTER ]] || run+=(--filter "$PART_A_FILTER")
		run+=("${PART_A_FILES[@]}")
		;;
	debug:b)
		# the planted bugs once: they end lockdep for the rest of the boot
		run+=(--no-canary "${PART_B_FILES[@]}")
		;;
	pti:*)
		k=${job#pti:}
		timeout=600
		lab=(--append pti=on)
		pti=1
		# lockdown last: it cannot be lowered for the rest of the boot
		run+=(--no-canary tests/pti.bats tests/lockdown.bats)
		;;
	*:[12])
		# a half of the suite, by the files' last times (half_files)
		mapfile -t half < <(half_files "$k" "${job##*:}")
		run+=("${half[@]}")
		;;
	*)
		run+=("${files[@]}")
		;;
	esac
	# a hung guest must leave the other lane time for the rest within
	# CI's 90 minutes: a debug part takes 15-22 minutes, the others 13-22
	[[ $k != debug ]] || timeout=3000
	[[ -z $DKMS_ON || $k == "$DKMS_ON" ]] || dkms=skip
	SHIKUMI_LAB_DMESG=$out/$name.dmesg.txt \
		SHIKUMI_TEST_DKMS=$dkms SHIKUMI_TEST_DKMS_ON=$DKMS_ON SHIKUMI_TEST_PTI=$pti \
		SHIKUMI_TEST_LOCKDOWN=$pti \
		"$root/scripts/phase" "$phases" "guest $name" -- \
		"$root/scripts/lab" --kernel "$k" --timeout "$timeout" "${lab[@]}" \
		-- "${run[@]}" \
		2>&1 | tee "$out/$name.log" | "$root/scripts/check-progress" "$job"
	rc=${PIPESTATUS[0]}
	echo "$job $rc $(awk -F'\t' -v n="guest $name" '$1 == n { print $3 - $2 }' "$phases")" \
		>"$out/$name.rc"
	if [[ $rc -ne 0 ]]; then
		{
			flock 8
			echo "== $job failed (status $rc); the end of its log (all of it: build/check/$name.log):"
			tail -n 60 "$out/$name.log" | tr -d '\r'
		} 8>"$out/.print"
	fi
}

# The kernel a job boots: debug:a -> debug, pti:6.1 -> 6.1
job_kernel() {
	local k=${1#pti:}

	echo "${k%%:*}"
}

# Can JOB start now?  Not before its kernel's background preparation ends.
job_ready() {
	local k

	k=$(job_kernel "$1")
	[[ ! -f $out/$k.bg || -f $out/$k.prep ]]
}

# Run the jobs, at most $jobs at a time (the debug kernel's build counts
# as one), taking the first that can start
run_jobs() {
	local pending=("$@") i job k started

	while [[ ${#pending[@]} -gt 0 ]]; do
		while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
			wait -n
		done
		started=0
		for i in "${!pending[@]}"; do
			job=${pending[i]}
			job_ready "$job" || continue
			unset 'pending[i]'
			pending=("${pending[@]}")
			started=1
			k=$(job_kernel "$job")
			if [[ -f $out/$k.bg && $(<"$out/$k.prep") -ne 0 ]]; then
				echo "$job 1 0" >"$out/$(job_file "$job").rc"
				break
			fi
			echo "== $job: started $(date +%T)"
			run_one "$job" &
			break
		done
		# nothing can start until a kernel is prepared: the debug
		# kernel's build is a job of ours, the sid root's is not
		[[ $started -eq 1 ]] || sleep 5
	done
	wait
}
