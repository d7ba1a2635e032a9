#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Run by tests/run after the whole suite, on a kernel with kmemleak (the
# debug kernel): with every shikumi module unloaded, kmemleak must suspect
# nothing that was allocated during the run.

load ../common

@test "kmemleak: no leak suspected after the whole suite, with the modules unloaded" {
	local m leaks
	for m in shikumi_chrdev shikumi_ramdisk shikumi_ptdump shikumi_cstrace; do
		if module_loaded "$m"; then
			shikumi unload "$m"
		fi
	done
	leaks=$(kmemleak_report 2>"$BATS_TEST_TMPDIR/known")
	echo "$leaks"
	[ -z "$leaks" ]
	echo "# kmemleak: nothing suspected after the whole run $(cat "$BATS_TEST_TMPDIR/known")" >&3
}
