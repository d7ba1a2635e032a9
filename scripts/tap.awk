# SPDX-License-Identifier: GPL-2.0
#
# One test's line of bats's TAP (with --timing), for scripts/check-progress
# and scripts/check-report: tap_parse(LINE, OUT) returns 0 for any other
# line; for "ok N NAME in MSms # skip WHY" or "not ok N NAME in MSms" it
# returns 1 and sets OUT["verdict"] (ok, FAIL or skip), OUT["ms"] (what
# bats --timing counted), OUT["name"] and OUT["skip"] (the reason, or "").

function tap_parse(line, out) {
	if (line !~ /^(not )?ok [0-9]+ /)
		return 0
	out["skip"] = ""
	if (match(line, / # skip.*$/)) {
		out["skip"] = substr(line, RSTART + 3)
		line = substr(line, 1, RSTART - 1)
	}
	out["ms"] = 0
	if (match(line, / in [0-9]+ms$/)) {
		out["ms"] = substr(line, RSTART + 4, RLENGTH - 6) + 0
		line = substr(line, 1, RSTART - 1)
	}
	out["verdict"] = line ~ /^not ok/ ? "FAIL" : out["skip"] != "" ? "skip" : "ok"
	sub(/^(not )?ok [0-9]+ /, "", line)
	out["name"] = line
	return 1
}
