#!/usr/bin/env bash
# ftcluster's single test command.
#
#   ./test.sh                 every stage, in order
#   ./test.sh STAGE...        only those stages (e.g. ./test.sh build unit)
#   ./test.sh --list          list the stages
#
# Stages: deps (install missing Debian packages), build (autogen, configure,
# make, in the source tree), unit (the formatting check, make check), distcheck (the tarball builds
# and passes make check out of tree), integration (pytest against
# real daemons and a private ZooKeeper).  Exits non-zero at the first failing
# stage.
#
# Environment:
#   PYTHON                 interpreter with Debian's pytest (default /usr/bin/python3)
#   MAKE_JOBS              parallel make jobs (default 2)
#   CONFIGURE_FLAGS        extra ./configure arguments (word-split)
#   PYTEST_ARGS            extra pytest arguments (word-split), e.g. "-k leader -x"
#   FT_INTEGRATION_TIMEOUT seconds for each integration run (default 1800)
#   FT_TEST_CGROUPS_MODES  the integration stage's runs (default "auto off": with
#                          the host's cgroups, then without any)
#
# To add a stage (sanitizers, valgrind, fuzzing, ...): write a function
# stage_NAME and add NAME to ALL_STAGES (or to OPTIONAL_STAGES to run it only
# when asked by name).  A stage runs in a subshell with `set -e`.

set -euo pipefail

ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)
readonly ROOT
cd "$ROOT"

readonly ALL_STAGES=(deps build unit distcheck valgrind fuzz sanitize integration systemd package browser)
readonly OPTIONAL_STAGES=()

# Test tools on top of what scripts/ensure-deps.sh installs for build and run.
readonly TEST_PACKAGES=(python3-pytest python3-yaml valgrind clang clang-format libclang-rt-14-dev
	systemd util-linux procps iproute2 debhelper lintian dpkg-dev groff-base man-db
	chromium)

PYTHON=${PYTHON:-/usr/bin/python3}
MAKE_JOBS=${MAKE_JOBS:-2}
FT_INTEGRATION_TIMEOUT=${FT_INTEGRATION_TIMEOUT:-1800}

log() {
	printf '\n==> %s\n' "$*"
}

# Print a command, then run it.
run() {
	printf '+ %s\n' "$*"
	"$@"
}

# ---------------------------------------------------------------- deps

stage_deps() {
	run scripts/ensure-deps.sh "${TEST_PACKAGES[@]}"
	run scripts/sandbox-users.sh
}

# ---------------------------------------------------------------- build

stage_build() {
	local -a flags=()
	# shellcheck disable=SC2206 # word splitting of CONFIGURE_FLAGS is the point
	[[ -n ${CONFIGURE_FLAGS:-} ]] && flags=(${CONFIGURE_FLAGS})
	run ./autogen.sh
	run ./configure "${flags[@]}"
	run make -j"$MAKE_JOBS"
}

# ---------------------------------------------------------------- unit

stage_unit() {
	run tests/check-format.sh
	if ! run make -j"$MAKE_JOBS" check; then
		if [[ -f test-suite.log ]]; then
			echo "----- test-suite.log -----"
			cat test-suite.log
		fi
		return 1
	fi
}

# ---------------------------------------------------------------- distcheck

# The release tarball: it must hold every file the build needs, and build
# and pass "make check" out of tree (automake's distcheck).
stage_distcheck() {
	run make -j"$MAKE_JOBS" distcheck
	rm -f "$ROOT"/ftcluster-*.tar.gz
}

# ---------------------------------------------------------------- valgrind

# The unit tests once more under valgrind: no leak, no invalid access.
stage_valgrind() {
	local t
	for t in $(make -s print-unit-tests); do
		run env CK_FORK=no srcdir="$ROOT" valgrind -q --leak-check=full \
			--show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
			--error-exitcode=1 "./$t" >/dev/null
	done
}

# ---------------------------------------------------------------- fuzz

stage_fuzz() {
	run tests/fuzz/run-fuzz.sh "${FT_FUZZ_SECONDS:-30}"
}

# ---------------------------------------------------------------- sanitize

# A second build with ASan + UBSan, out of the source tree (a copy of the
# tracked files), whose unit tests and request-path integration tests must
# run clean: any report aborts the program and fails the stage.
stage_sanitize() {
	local dir=${FT_SANITIZE_DIR:-/tmp/ftcluster-sanitize}
	rm -rf "$dir"
	# The release tarball's file list (no git needed: a fresh machine or an
	# unpacked tarball has none); distcheck proves the list complete.
	run make -s distdir distdir="$dir" >/dev/null
	cd "$dir"
	run ./autogen.sh >/dev/null
	run ./configure --quiet --enable-sanitizers
	run make -j"$MAKE_JOBS" >/dev/null
	# Reports land in files too, so that one from a daemon (whose stderr a
	# test may never read) still fails the stage.
	local reports=$dir/sanitizer-reports
	mkdir -p "$reports"
	export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:log_path=$reports/asan
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan
	export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0
	if ! run make -j"$MAKE_JOBS" check; then
		cat test-suite.log 2>/dev/null || true
		return 1
	fi
	export FT_BUILD_DIR=$dir
	run timeout --kill-after=60 600 "$PYTHON" -m pytest -q -p no:cacheprovider \
		"$ROOT/tests/integration/test_request_path.py"
	if [[ -n $(ls -A "$reports") ]]; then
		echo "sanitizer reports:" >&2
		cat "$reports"/* >&2
		return 1
	fi
}

# ---------------------------------------------------------------- integration

stage_integration() {
	local -a extra=()
	# shellcheck disable=SC2206 # word splitting of PYTEST_ARGS is the point
	[[ -n ${PYTEST_ARGS:-} ]] && extra=(${PYTEST_ARGS})
	"$PYTHON" -c 'import pytest' 2>/dev/null || {
		echo "$PYTHON cannot import pytest (apt-get install python3-pytest, or set PYTHON)" >&2
		return 1
	}
	export FT_BUILD_DIR=$ROOT
	# Once with the cgroups the host offers, once without any (as where
	# ftnode has no cgroup delegation): neither mode may rot.
	local mode rc
	for mode in ${FT_TEST_CGROUPS_MODES:-auto off}; do
		log "integration tests, FT_TEST_CGROUPS=$mode"
		rc=0
		# pytest cleans up its daemons on TERM; KILL only if that hangs.
		run env FT_TEST_CGROUPS="$mode" timeout --kill-after=60 "$FT_INTEGRATION_TIMEOUT" \
			"$PYTHON" -m pytest -v -ra --durations=5 -p no:cacheprovider tests/integration \
			"${extra[@]}" || rc=$?
		case $rc in
		0) ;;
		5)
			echo "pytest collected no tests: treating that as a failure" >&2
			return 1
			;;
		124)
			echo "integration tests (FT_TEST_CGROUPS=$mode) exceeded ${FT_INTEGRATION_TIMEOUT}s" >&2
			return 1
			;;
		*) return "$rc" ;;
		esac
	done
}

# ---------------------------------------------------------------- systemd

# A real systemd as PID 1 in private namespaces runs the installed units.
stage_systemd() {
	export FT_BUILD_DIR=$ROOT
	local rc=0
	run timeout --kill-after=30 300 "$PYTHON" -m pytest -v -ra -p no:cacheprovider tests/systemd || rc=$?
	case $rc in
	0) ;;
	5) echo "systemd tests skipped (reason above)" ;; # module-level skip, e.g. not root
	124)
		echo "systemd tests exceeded 300s" >&2
		return 1
		;;
	*) return "$rc" ;;
	esac
}

# ---------------------------------------------------------------- package

# nocheck: the unit stage already ran "make check" on the same sources.
stage_package() {
	run env DEB_BUILD_OPTIONS="parallel=$MAKE_JOBS nocheck" \
		timeout --kill-after=60 1800 tests/package/test-package.sh
}

# ---------------------------------------------------------------- browser

# The dashboard in headless Chromium, driven by playwright-core.
stage_browser() {
	export FT_BUILD_DIR=$ROOT
	# Node.js and npm come with the machine image (Debian's npm conflicts
	# with it); without them this stage says so and skips.
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "SKIP browser: node and npm are not installed"
		return 0
	fi
	(cd tests/browser && run npm ci --no-audit --no-fund)
	(cd tests/browser && run timeout --kill-after=30 600 node --test)
}

# ---------------------------------------------------------------- driver

is_stage() {
	local s
	for s in "${ALL_STAGES[@]}" "${OPTIONAL_STAGES[@]}"; do
		[[ $s == "$1" ]] && return 0
	done
	return 1
}

main() {
	local -a stages
	if (($# == 0)); then
		stages=("${ALL_STAGES[@]}")
	elif [[ $1 == --list ]]; then
		printf '%s\n' "${ALL_STAGES[@]}"
		((${#OPTIONAL_STAGES[@]} == 0)) || printf '%s (optional)\n' "${OPTIONAL_STAGES[@]}"
		return 0
	else
		stages=("$@")
		local s
		for s in "${stages[@]}"; do
			is_stage "$s" || {
				echo "unknown stage: $s (try --list)" >&2
				return 2
			}
		done
	fi

	local s rc start
	local -a done_stages=()
	for s in "${stages[@]}"; do
		log "stage $s"
		start=$SECONDS
		set +e
		(
			set -e
			"stage_$s"
		)
		rc=$?
		set -e
		if ((rc != 0)); then
			log "FAILED: stage $s (exit $rc, $((SECONDS - start))s)"
			((${#done_stages[@]} == 0)) || echo "passed before it: ${done_stages[*]}"
			return 1
		fi
		echo "stage $s passed ($((SECONDS - start))s)"
		done_stages+=("$s")
	done
	log "all stages passed: ${done_stages[*]}"
}

main "$@"
