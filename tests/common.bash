# SPDX-License-Identifier: GPL-2.0
#
# Shared by every bats file: `load common` at the top.
#
# Each test records where the kernel log ends before it runs and fails if
# the test added a BUG, WARNING, Oops, lockdep or KASAN report to it.  A
# file that defines its own setup/teardown must call common_setup and
# common_teardown.

SHIKUMI_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export SHIKUMI_ROOT
export PATH=$SHIKUMI_ROOT/build/bin:$PATH
NOBODY=65534

common_setup() {
	SHIKUMI_KLOG_MARK=$(dmesg | wc -l)
}

common_teardown() {
	local new
	new=$(dmesg | tail -n +"$((SHIKUMI_KLOG_MARK + 1))")
	if ! "$SHIKUMI_ROOT/scripts/klog-scan" - <<<"$new"; then
		echo "the kernel log shows problems after this test" >&2
		return 1
	fi
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Run a command as an unprivileged user (nobody), without capabilities.
as_user() {
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups -- "$@"
}

module_loaded() {
	[[ -d /sys/module/$1 ]]
}

# Reload a module with the given parameters: reload_module NAME [param=v...]
reload_module() {
	local name=$1
	shift
	if module_loaded "$name"; then
		shikumi unload "$name"
	fi
	shikumi load "$name" "$@"
}
