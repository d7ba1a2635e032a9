# SPDX-License-Identifier: GPL-2.0
#
# The rules of scripts/klog-scan, in one awk program so that each test's
# teardown (tests/common.bash) can apply them without a pipe of tr, awk
# and grep.  Reads a kernel log, drops what the tests announced (see
# scripts/klog-scan), prints every report left with its context and exits
# 1, or exits 0 when there is none.

BEGIN {
	pattern = "BUG:|WARNING:|Oops|Call Trace|KASAN|UBSAN|kernel BUG|general protection fault|"
	pattern = pattern "Kernel panic|possible circular locking|possible recursive locking|"
	pattern = pattern "inconsistent lock state|suspicious RCU usage|unreferenced object|"
	pattern = pattern "suspected memory leak|ODEBUG:|"
	pattern = pattern "INFO: task .* blocked|soft lockup|hard LOCKUP|list_(add|del) corruption|"
	pattern = pattern "scheduling while atomic|sleeping function called from invalid context|"
	# lockdep gives up (a table full, a bad key): the rest of the boot
	# would run unchecked, and the planted lockdep bug would go unseen
	pattern = pattern "turning off the locking correctness validator"
}

{ sub(/\r$/, "") }
/shikumi: planted bugs on/ { planted = 1; next }
/shikumi: planted bugs off/ { planted = 0; next }
planted { next }
/shikumi: kmemleak scan on/ { base = 1; next }
/shikumi: kmemleak scan off/ { base = 0; next }
base && /new suspected memory leaks/ { next }
/shikumi: fault injection on/ { inj = 1; next }
/shikumi: fault injection off/ { inj = 0; skip = 0; next }
inj && /(page allocation failure: |vmalloc error: |FAULT_INJECTION: forcing a failure|kmem_cache_create(_usercopy)?\(.*\) failed with error)/ {
	skip = 1
	next
}
skip && /<\/TASK>/ { skip = 0; next }
!skip { line[++n] = $0 }

# each report with 3 lines before and 25 after, as grep -n -B 3 -A 25
# would, at most 200 lines in all
END {
	shown = 0
	last = 0
	for (i = 1; i <= n; i++) {
		if (line[i] !~ pattern)
			continue
		if (!bad++)
			print "klog-scan: kernel log reports problems:" > "/dev/stderr"
		from = i - 3 > last ? i - 3 : last + 1
		if (from < 1)
			from = 1
		if (last && from > last + 1 && shown < 200) {
			print "--" > "/dev/stderr"
			shown++
		}
		for (j = from; j <= i + 25 && j <= n && shown < 200; j++) {
			printf "%d%s%s\n", j, j == i || line[j] ~ pattern ? ":" : "-",
				line[j] > "/dev/stderr"
			shown++
		}
		last = j - 1
	}
	exit bad ? 1 : 0
}
