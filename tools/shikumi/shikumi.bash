# SPDX-License-Identifier: GPL-2.0
# bash completion for shikumi(1).
#
# The words come from the program's own tables (`shikumi ... --describe`,
# tools/shikumi/options.c), so the completion knows every verb, option
# and listed value of the shikumi it completes for, and cannot drift:
# verbs, then options; after an option, the values it lists (a model, a
# policy), files for FILE and DIR, the loaded disks for --disk and the
# device nodes for --device; for an argument, the values the command lists
# (module names for load and unload, models, policies).

# _shikumi_fields TYPE: the records of that type in $_shikumi_d, one a line
_shikumi_fields() {
	local line
	while IFS= read -r line; do
		[[ $line == "$1"$'\t'* ]] && printf '%s\n' "$line"
	done <<<"$_shikumi_d"
}

# _shikumi_value OPTION: complete the value of OPTION; fails if it takes none
_shikumi_value() {
	local _ s l arg values
	while IFS=$'\t' read -r _ s l arg _ values; do
		[[ $1 == "--$l" || ($s != - && $1 == "-$s") ]] || continue
		[[ $arg != - ]] || return 1
		if [[ $values != - ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
		elif [[ $l == disk ]]; then
			values=
			for s in /sys/block/shikumi-ram*; do
				[[ -e $s ]] && values+="${s##*/} "
			done
			mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
		elif [[ $l == device ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "${cur:-/dev/shikumi-}")
		elif [[ $arg == DIR ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		elif [[ $arg == FILE* ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		else
			COMPREPLY=()
		fi
		return 0
	done < <(_shikumi_fields opt)
	return 1
}

_shikumi() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local bin=${COMP_WORDS[0]} words=() i _ name rest
	local _shikumi_d

	COMPREPLY=()
	_shikumi_d=$("$bin" --describe 2>/dev/null) || return 0
	# down the verbs typed so far, while there are verbs to choose from
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ $_shikumi_d == cmd$'\t'* ]] || break
		[[ $'\n'$_shikumi_d == *$'\n'cmd$'\t'"${COMP_WORDS[i]}"$'\t'* ]] || return 0
		words+=("${COMP_WORDS[i]}")
		_shikumi_d=$("$bin" "${words[@]}" --describe 2>/dev/null) || return 0
	done
	if [[ $_shikumi_d == cmd$'\t'* ]]; then
		rest=
		while IFS=$'\t' read -r _ name _; do
			rest+="$name "
		done < <(_shikumi_fields cmd)
		[[ ${#words[@]} -gt 0 ]] || rest+="--help --version"
		mapfile -t COMPREPLY < <(compgen -W "$rest" -- "$cur")
		return 0
	fi
	if [[ $prev == -* ]] && _shikumi_value "$prev"; then
		return 0
	fi
	if [[ $cur == -* ]]; then
		rest=
		while IFS=$'\t' read -r _ i name _; do
			[[ $i == - ]] || rest+="-$i "
			rest+="--$name "
		done < <(_shikumi_fields opt)
		mapfile -t COMPREPLY < <(compgen -W "$rest" -- "$cur")
		return 0
	fi
	rest=$(_shikumi_fields args)
	[[ -z $rest ]] || mapfile -t COMPREPLY < <(compgen -W "${rest#args$'\t'}" -- "$cur")
	return 0
}
complete -F _shikumi shikumi
