#!/usr/bin/env bash
# Install the Debian packages ftcluster needs, only those that are missing,
# saying what it does.  Used by demo.sh (build and run) and test.sh (adds the
# test tools as extra arguments).
#
#   scripts/ensure-deps.sh [EXTRA_PACKAGE...]

set -euo pipefail

PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	libsystemd-dev libzookeeper-mt-dev zookeeper libmicrohttpd-dev libyaml-dev
	libjson-c-dev check libcurl4-openssl-dev default-jdk-headless curl python3
	bubblewrap libseccomp-dev libsodium-dev groff-base man-db
	"$@"
)

run() {
	printf '+ %s\n' "$*"
	"$@"
}

# Packages of the arguments that are not installed.
missing_packages() {
	local p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $status == "install ok installed" ]] || printf '%s\n' "$p"
	done
}

# Does APT know an installable version of every argument?
apt_knows() {
	local p cand
	for p in "$@"; do
		cand=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: //p' || true)
		[[ -n $cand && $cand != "(none)" ]] || return 1
	done
}

command -v dpkg-query >/dev/null || {
	echo "dpkg-query not found: not a Debian system; install the equivalents of: ${PACKAGES[*]}" >&2
	exit 1
}
mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
if ((${#missing[@]} == 0)); then
	echo "all ${#PACKAGES[@]} required packages are installed"
	exit 0
fi
echo "missing packages: ${missing[*]}"
sudo=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || {
		echo "not root and no sudo: cannot install ${missing[*]}" >&2
		exit 1
	}
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
install=("${sudo[@]}" apt-get install -y -o DPkg::Lock::Timeout=60 "${missing[@]}")
if ! apt_knows "${missing[@]}"; then
	run "${sudo[@]}" apt-get update -o DPkg::Lock::Timeout=60
	run "${install[@]}"
elif ! run "${install[@]}"; then
	echo "install failed; refreshing the package lists and trying once more"
	run "${sudo[@]}" apt-get update -o DPkg::Lock::Timeout=60
	run "${install[@]}"
fi
mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
if ((${#missing[@]} != 0)); then
	echo "still missing after install: ${missing[*]}" >&2
	exit 1
fi
