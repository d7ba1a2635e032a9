# SPDX-License-Identifier: GPL-2.0
#
# Sourced: compile through ccache, with the cache the lab's guests share,
# when ccache is installed.  The host's DKMS builds (scripts/dkms-check,
# tests/host/dkms.bats) fill it; the in-guest DKMS build (tests/install.bats)
# compiles the same files from the same paths with the same compiler (the
# guest's root is the host's), so its compiles are found there and only
# what differs is compiled again.  Everything else of the build (kbuild,
# modpost, the links, BTF, signing, depmod) still runs where it is.
#
# hash_dir off: the kernel compiles with -g, which would otherwise put the
# working directory in every key, and DKMS's paths are the same anyway.
# In the sid root (scripts/sid-root, 7.x), which has a ccache of its own,
# the same settings name a cache inside that root: its DKMS builds run
# there on the host (scripts/dkms-check) and in the 7.x guest.
if [[ -d /usr/lib/ccache ]]; then
	export CCACHE_DIR=${SHIKUMI_CCACHE_DIR:-/var/cache/shikumi/ccache}
	export CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=2G
	[[ :$PATH: == *:/usr/lib/ccache:* ]] || export PATH=/usr/lib/ccache:$PATH
	mkdir -p "$CCACHE_DIR" 2>/dev/null || true
fi
