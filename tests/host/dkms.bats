#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# DKMS builds shikumi from a clean tree for each supported kernel's
# headers, on the host (7.x inside the sid build root).  The machine runs
# none of these kernels, so this is the build-only check; install and
# modprobe are tested in the guest (tests/install.bats).

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	VER=$("$ROOT/scripts/version")
}

@test "dkms build: Debian 6.1" {
	run "$ROOT/scripts/dkms-check" 6.1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *", version $VER, vermagic 6.1."* ]]
}

@test "dkms build: Debian 6.12" {
	run "$ROOT/scripts/dkms-check" 6.12
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *", version $VER, vermagic 6.12."* ]]
}

@test "dkms build: Debian 7.x (sid)" {
	run "$ROOT/scripts/dkms-check" 7.x
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *", version $VER, vermagic 7."* ]]
}
