# SPDX-License-Identifier: GPL-2.0
# loaded by semantics.bats
helper_ok() {
	true
}

helper_fails() {
	echo "in the helper"
	[[ a == b ]]
	echo "never here"
}
