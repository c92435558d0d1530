#!/bin/bash
# test-package.sh - build the Debian package and install it into a fresh root.
#
#   tests/package/test-package.sh
#
#   1. copies the source tree (tracked and untracked, not ignored, files) to
#      a work directory, with packaging/debian as debian/;
#   2. dpkg-buildpackage -us -uc -b there (debhelper, dh_autoreconf, the
#      Autotools build, "make check" unless DEB_BUILD_OPTIONS has nocheck);
#   3. checks the .deb: files, conffile, dependencies, maintainer scripts;
#   4. lintian: no error (warnings are listed);
#   5. installs the .deb with apt into a throwaway copy (overlay) of a
#      debootstrap'd Debian root (/var/tmp/ftfresh-base, prepared by
#      /work/shared/tools/fresh-root.sh prepare, or FT_FRESH_BASE), in private
#      mount and PID namespaces, and checks there: ftnode --version, the
#      default configuration, units (installed, not enabled, verified), man
#      pages, the journal catalog indexed, the ftcluster user, and that the
#      runtime the package depends on compiles and runs a Java program with
#      the packaged jar.  Skipped, saying why, without such a base.
#
# Installs what it needs (debhelper, lintian, the build dependencies) with
# apt when missing.  Exits 0 when nothing failed; ends with
# "N passed, N failed, N skipped".
#
# Environment: DEB_BUILD_OPTIONS (default "parallel=2"), FT_FRESH_BASE,
# FT_PKG_KEEP=1 keeps the work directory, FT_PKG_TIMEOUT (seconds for the
# fresh-root part, default 900).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd -P)
BASE=${FT_FRESH_BASE:-/var/tmp/ftfresh-base}
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2}
FRESH_TIMEOUT=${FT_PKG_TIMEOUT:-900}

passed=0
failed=0
skipped=0
ok() {
	passed=$((passed + 1))
	echo "ok:   $*"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
skip() {
	skipped=$((skipped + 1))
	echo "SKIP: $*"
}
show() { sed 's/^/        /' "$@"; }
summary() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}

# ---------------------------------------------------------------- inner part
# PID 1 of private PID + mount namespaces: mount the fresh root, install the
# package there, check it.  Its mounts vanish with the namespace.
if [ "${1:-}" = __fresh ]; then
	work=$2
	deb=$3
	[ "$$" = 1 ] || {
		echo "FAIL: __fresh must be PID 1 of a new PID namespace"
		exit 2
	}
	root=$work/root
	mount --make-rprivate /
	if ! mount -t overlay -o "lowerdir=$BASE,upperdir=$work/upper,workdir=$work/wk" ftpkg-root "$root" 2>/dev/null; then
		echo "(overlayfs unavailable: copying the base)"
		cp -a "$BASE/." "$root/" || exit 2
	fi
	mount --bind /proc "$root/proc" # this namespace's own
	mount --bind /sys "$root/sys"
	mount -o remount,bind,ro "$root/sys"
	# A /dev of its own: the harmless character devices, a private devpts.
	mount -t tmpfs -o mode=0755,nosuid ftpkg-dev "$root/dev"
	for n in null zero full random urandom tty; do
		touch "$root/dev/$n"
		mount --bind "/dev/$n" "$root/dev/$n"
	done
	mkdir -p "$root/dev/pts" "$root/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
	ln -s pts/ptmx "$root/dev/ptmx"
	ln -s /proc/self/fd "$root/dev/fd"
	mount -t tmpfs -o mode=1777 ftpkg-shm "$root/dev/shm"
	mount -t tmpfs -o mode=1777 ftpkg-tmp "$root/tmp"
	# The host's downloaded .debs, read-only below a private layer: apt
	# fetches only what is not there.
	mkdir -p "$work/apt.up" "$work/apt.wk"
	mount -t overlay -o "lowerdir=/var/cache/apt/archives,upperdir=$work/apt.up,workdir=$work/apt.wk" \
		ftpkg-apt "$root/var/cache/apt/archives" 2>/dev/null || true
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	cp "$work/sources.list" "$root/etc/apt/sources.list"
	[ -s "$work/apt-access.conf" ] && cp "$work/apt-access.conf" "$root/etc/apt/apt.conf.d/00host-mirror-access"
	# No service may start in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	cp "$deb" "$root/tmp/"
	cp "$work/checks.sh" "$root/tmp/checks.sh"
	chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash /tmp/checks.sh "/tmp/${deb##*/}"
	exit $?
fi

# ---------------------------------------------------------------- outer part
[ "$(id -u)" = 0 ] || {
	skip "needs root (apt, chroot, namespaces)"
	summary
}

# Leftovers of runs that were SIGKILLed (their namespaces died with them).
for d in /var/tmp/ftpkg-test.*; do
	[ -f "$d/owner.pid" ] || continue
	kill -0 "$(cat "$d/owner.pid")" 2>/dev/null && continue
	awk -v d="$d" '$2 == d || index($2, d "/") == 1' /proc/mounts | grep -q . && continue
	rm -rf --one-file-system -- "$d"
done
work=$(mktemp -d /var/tmp/ftpkg-test.XXXXXX) || exit 2
echo $$ >"$work/owner.pid"
child=
# Run a command in the background, in a process group of its own, and wait
# for it: a TERM or INT then reaches our trap at once, and cleanup stops the
# whole group.
bg_run() {
	setsid "$@" &
	child=$!
	wait "$child"
	local rc=$?
	child=
	return "$rc"
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM -- "-$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ "${FT_PKG_KEEP:-0}" = 1 ]; then
		echo "(FT_PKG_KEEP=1: keeping $work)"
		return
	fi
	# The fresh root's mounts lived in its own namespace; make sure none is
	# left on the host before deleting anything.
	if awk -v d="$work" '$2 == d || index($2, d "/") == 1' /proc/mounts | grep -q .; then
		echo "WARNING: mounts left below $work; not deleting it"
		return
	fi
	rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "== test-package: sources in $top, work in $work"

# ---- tools ----
echo "-- tools"
if "$top/scripts/ensure-deps.sh" debhelper lintian dpkg-dev >"$work/deps.log" 2>&1; then
	ok "debhelper, lintian, dpkg-dev installed"
else
	fail "installing debhelper, lintian, dpkg-dev:"
	show "$work/deps.log"
	summary
fi

# ---- 1. the source copy ----
src=$work/ftcluster-0.1.0
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(
		cd "$top" &&
			git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
				xargs -0 cp -a --parents -t "$src"
	)
else
	# Not a git checkout (an unpacked tarball): all of it; dh_auto_clean
	# removes what a build left.
	cp -a "$top/." "$src/"
fi || {
	fail "copying the source tree"
	summary
}
rm -rf "$src/debian"
cp -a "$src/packaging/debian" "$src/debian"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream=$(sed -n 's/^AC_INIT(\[ftcluster\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
if [ "${version%-*}" = "$upstream" ]; then
	ok "debian/changelog version $version matches configure.ac ($upstream)"
else
	fail "debian/changelog version $version does not match configure.ac's $upstream"
fi

# ---- 2. build ----
echo "-- dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
if ! (cd "$src" && dpkg-checkbuilddeps) >"$work/bdeps.log" 2>&1; then
	need=$(sed -n 's/.*Unmet build dependencies: //p' "$work/bdeps.log" |
		sed -E 's/\([^)]*\)//g; s/<[^>]*>//g; s/\|[^ ]*//g')
	echo "installing build dependencies: $need"
	# shellcheck disable=SC2086 # one word per package
	"$top/scripts/ensure-deps.sh" $need >>"$work/deps.log" 2>&1 || true
fi
start=$SECONDS
# shellcheck disable=SC2016 # expanded by the inner bash
if bg_run setpriv --pdeathsig KILL -- bash -c 'cd "$1" && exec dpkg-buildpackage -us -uc -b' _ "$src" \
	>"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($((SECONDS - start))s)"
else
	fail "dpkg-buildpackage -us -uc -b; the end of its log:"
	tail -n 60 "$work/build.log" | show
	summary
fi
deb=$(find "$work" -maxdepth 1 -name 'ftcluster_*.deb' | head -n 1)
changes=$(find "$work" -maxdepth 1 -name 'ftcluster_*.changes' | head -n 1)
if [ -z "$deb" ] || [ -z "$changes" ]; then
	fail "no .deb or .changes built"
	summary
fi

# ---- 3. what the .deb holds ----
echo "-- the package: $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/files"
dpkg-deb -e "$deb" "$work/control"
unitdir=$(grep -m1 -oE '^/(usr/)?lib/systemd/system/' "$work/files")
missing=
for f in /usr/bin/ftnode /usr/bin/ftgw /usr/bin/ftctl /usr/share/ftcluster/ftcluster.jar \
	/usr/share/ftcluster/openapi.yaml /usr/share/bash-completion/completions/ftctl \
	/etc/ftcluster/ftcluster.yaml /usr/lib/systemd/catalog/ftcluster.catalog \
	/usr/lib/sysusers.d/ftcluster.conf \
	"${unitdir}ftnode@.service" "${unitdir}ftgw.service" "${unitdir}ftcluster.target" \
	/usr/share/man/man8/ftnode.8.gz /usr/share/man/man8/ftgw.8.gz \
	/usr/share/man/man1/ftctl.1.gz /usr/share/man/man5/ftcluster.yaml.5.gz \
	/usr/share/doc/ftcluster/copyright; do
	grep -qxF -- "$f" "$work/files" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	ok "binaries, jar, the API document, bash completion, units (in $unitdir), man pages, config, catalog, sysusers.d entry"
else
	fail "missing from the package:$missing"
fi
if grep -qxF /etc/ftcluster/ftcluster.yaml "$work/control/conffiles" 2>/dev/null; then
	ok "/etc/ftcluster/ftcluster.yaml is a conffile"
else
	fail "/etc/ftcluster/ftcluster.yaml is not a conffile"
fi
depends=$(dpkg-deb -f "$deb" Depends)
bad=
for d in libzookeeper-mt2 libmicrohttpd12 libyaml-0-2 libjson-c5 libsystemd0 default-jre-headless \
	'systemd | systemd-standalone-sysusers'; do
	case ", $depends" in *", $d"* | *"| $d"* | *" $d "*) ;; *) bad="$bad '$d'" ;; esac
done
if [ -z "$bad" ]; then
	ok "Depends: $depends"
else
	fail "Depends lacks$bad: $depends"
fi
# (re-enabling what the administrator had enabled, on upgrade, is fine)
n_enable=$(grep -c 'deb-systemd-helper enable' "$work/control/postinst")
n_guard=$(grep -c 'deb-systemd-helper --quiet was-enabled' "$work/control/postinst")
# shellcheck disable=SC2016 # a literal $ in the pattern
if grep -q 'systemd-sysusers' "$work/control/postinst" && [ "$n_enable" = "$n_guard" ] &&
	! grep -qE 'deb-systemd-invoke (start|\$_dh_action)' "$work/control/postinst"; then
	ok "postinst creates the ftcluster user and enables/starts no unit"
else
	fail "postinst: no sysusers call, or it enables/starts units"
fi

# ---- 4. lintian ----
echo "-- lintian"
lintian --tag-display-limit 0 "$changes" >"$work/lintian.log" 2>&1
if grep -q '^E: ' "$work/lintian.log"; then
	fail "lintian reports errors:"
	grep -E '^[EW]: ' "$work/lintian.log" | show
else
	ok "lintian: no error ($(grep -c '^W: ' "$work/lintian.log") warnings)"
	grep -E '^W: ' "$work/lintian.log" | show
fi

# ---- 5. a fresh root ----
echo "-- install into a fresh Debian root"
if [ ! -x "$BASE/bin/bash" ] || [ ! -x "$BASE/usr/bin/apt-get" ] || [ -e "$BASE/debootstrap" ]; then
	skip "no complete debootstrap'd base at $BASE (/work/shared/tools/fresh-root.sh prepare makes one)"
	summary
fi
for t in unshare chroot; do
	command -v "$t" >/dev/null || {
		skip "$t not found: no fresh-root install"
		summary
	}
done
# Debian sources as the host's apt reaches them (mirror, proxy settings).
suite=$(sed -n 's/^VERSION_CODENAME=//p' "$BASE/etc/os-release")
# shellcheck disable=SC2016 # apt's own $(...) placeholders
apt-get indextargets --format '$(TARGET_OF) $(IDENTIFIER) $(SITE) $(RELEASE) $(COMPONENT)' 2>/dev/null |
	awk -v s="$suite" '$1 == "deb" && $2 == "Packages" && ($4 == s || index($4, s "-") == 1) { print $3, $4, $5 }' |
	sort -u | awk '{ k = $1 " " $2; if (!(k in c)) o[n++] = k; c[k] = c[k] " " $3 }
		END { for (i = 0; i < n; i++) print "deb " o[i] c[o[i]] }' >"$work/sources.list"
apt-config dump 2>/dev/null | grep -E '^Acquire::(https?|ftp)::Proxy|^Acquire::Check-(Valid-Until|Date) ' \
	>"$work/apt-access.conf" || true
if [ ! -s "$work/sources.list" ]; then
	skip "the host's apt configuration names no $suite source: no fresh-root install"
	summary
fi
mkdir -p "$work/root" "$work/upper" "$work/wk"

# What runs inside the fresh root (as root, in a chroot).  Prints ok:/FAIL:
# lines, which the outer part counts.
cat >"$work/checks.sh" <<'CHECKS'
set -u
deb=$1
ok() { echo "ok:   $*"; }
fail() { echo "FAIL: $*"; }
log=/tmp/apt.log
if ! apt-get -q update >"$log" 2>&1; then
	fail "apt-get update in the fresh root:"; sed 's/^/        /' "$log" | tail -n 20; exit 1
fi
if apt-get install -y -q --no-install-recommends "$deb" >"$log" 2>&1; then
	ok "apt-get install ./$(basename "$deb") with its dependencies ($(grep -c '^Setting up' "$log") packages set up)"
else
	fail "apt-get install of the package:"; tail -n 30 "$log" | sed 's/^/        /'; exit 1
fi
v=$(/usr/bin/ftnode --version 2>&1)
case $v in "ftnode "[0-9]*) ok "/usr/bin/ftnode --version: $v" ;; *) fail "ftnode --version: $v" ;; esac
v=$(/usr/bin/ftgw --version 2>&1) && ok "/usr/bin/ftgw --version: $v" || fail "ftgw --version: $v"
key=$(stat -c '%a %U' /etc/ftcluster/cluster.key 2>&1)
case $key in "600 ftcluster") ok "postinst made the cluster key /etc/ftcluster/cluster.key: $key" ;;
	*) fail "cluster key: $key" ;; esac
cred=$(stat -c '%a %U' /etc/ftcluster/zk.auth 2>&1)
case $cred in "600 ftcluster") ok "postinst made the ZooKeeper credential /etc/ftcluster/zk.auth: $cred" ;;
	*) fail "ZooKeeper credential: $cred" ;; esac
out=$(/usr/bin/ftnode --id 1 --check-config 2>&1)
case $out in "/etc/ftcluster/ftcluster.yaml: configuration OK"*) ok "ftnode --check-config reads the default /etc/ftcluster/ftcluster.yaml: $out" ;;
	*) fail "ftnode --check-config: $out" ;; esac
dpkg-query -W -f='${Conffiles}\n' ftcluster | grep -q '/etc/ftcluster/ftcluster.yaml' &&
	ok "dpkg knows /etc/ftcluster/ftcluster.yaml as a conffile" || fail "no conffile registered"
unitdir=$(dirname "$(dpkg -L ftcluster | grep -m1 '/systemd/system/ftgw.service$')")
for u in ftnode@.service ftgw.service ftcluster.target; do
	[ -f "$unitdir/$u" ] || fail "$unitdir/$u missing"
done
grep -q '^ExecStart=/usr/bin/ftnode --config /etc/ftcluster/ftcluster.yaml --id %i$' "$unitdir/ftnode@.service" &&
	ok "$unitdir/ftnode@.service runs /usr/bin/ftnode --config /etc/ftcluster/ftcluster.yaml" ||
	fail "ftnode@.service ExecStart: $(grep ^ExecStart= "$unitdir/ftnode@.service")"
if command -v systemd-analyze >/dev/null; then
	# (--man=no: man-db is not installed here; the pages are checked above)
	if out=$(cd /tmp && systemd-analyze verify --man=no "$unitdir/ftnode@1.service" "$unitdir/ftgw.service" \
		"$unitdir/ftcluster.target" 2>&1) && ! printf '%s' "$out" | grep -qE 'ftnode|ftgw|ftcluster'; then
		ok "systemd-analyze verify ftnode@1.service ftgw.service ftcluster.target"
	else
		fail "systemd-analyze verify:"; printf '%s\n' "$out" | sed 's/^/        /'
	fi
fi
en=
for u in ftgw.service ftcluster.target; do
	en="$en $u=$(systemctl is-enabled "$u" 2>/dev/null)"
done
links=$(find /etc/systemd/system -name 'ft*' 2>/dev/null)
case "$en" in *=enabled*) fail "units enabled by the package:$en" ;;
	*) [ -z "$links" ] && ok "no unit enabled:$en" || fail "enablement links: $links" ;; esac
for m in man8/ftnode.8.gz man8/ftgw.8.gz man1/ftctl.1.gz man5/ftcluster.yaml.5.gz; do
	[ -s "/usr/share/man/$m" ] || fail "/usr/share/man/$m missing"
done
zcat /usr/share/man/man8/ftnode.8.gz | grep -q '^\.TH FTNODE 8' &&
	ok "man pages in /usr/share/man (ftnode.8, ftgw.8, ftctl.1, ftcluster.yaml.5)" || fail "ftnode.8.gz unreadable"
if command -v journalctl >/dev/null; then
	if journalctl --list-catalog 2>/dev/null | grep -q '1f3e5d7c9b0a4e2d8c6b4a2f0e1d3c52 ftcluster'; then
		ok "the catalog was indexed on install (systemd's trigger on /usr/lib/systemd/catalog)"
	else
		fail "journalctl --list-catalog does not know the ftcluster entries"
	fi
fi
pw=$(getent passwd ftcluster)
uid=$(echo "$pw" | cut -d: -f3)
if [ -n "$pw" ] && [ "$uid" -lt 1000 ] && getent group ftcluster >/dev/null; then
	ok "system user and group ftcluster: $pw"
else
	fail "no ftcluster system user (getent: '$pw')"
fi
# The runtime the package depends on (a JRE, no JDK) compiles and runs a
# job with the packaged jar: the compiler is the JDK's jdk.compiler module.
mkdir -p /tmp/job/classes
cat >/tmp/job/Hello.java <<'EOF'
public class Hello { public String run() { return "hello from a fresh root"; } }
EOF
jar=/usr/share/ftcluster/ftcluster.jar
if command -v javac >/dev/null; then
	fail "javac is installed: the check would not show that a JRE suffices"
fi
# be32 FILE OFFSET: the big-endian 32-bit number at OFFSET.
be32() { od -An -tu1 -j "$2" -N 4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'; }
# ft.Compiler answers on stdout as the warm compiler does (java/ft/Wire.java):
# "O", the class count, then each class's name and bytes, lengths first.
one_class() {
	local a=/tmp/job/compile.ans n
	[ "$(head -c 1 "$a")" = O ] && [ "$(be32 "$a" 1)" = 1 ] || return 1
	n=$(be32 "$a" 5)
	[ "$(tail -c +10 "$a" | head -c "$n")" = Hello ] || return 1
	tail -c +$((14 + n)) "$a" | head -c "$(be32 "$a" $((9 + n)))" >/tmp/job/classes/Hello.class
}
# The result channel: "S" (the program's code may run now), then "O" and
# the string run() returned.
if java -cp "$jar" ft.Compiler /tmp/job/Hello.java >/tmp/job/compile.ans 2>/tmp/job/compile.out &&
	one_class &&
	java -cp "$jar:/tmp/job/classes" ft.Launcher Hello 3>/tmp/job/answer >/tmp/job/run.out 2>&1 &&
	[ "$(tail -c +3 /tmp/job/answer)" = "hello from a fresh root" ]; then
	ok "the installed JRE compiles and runs a job with $jar ($(java -version 2>&1 | head -n 1))"
else
	fail "compiling/running a job with the installed JRE:"
	cat /tmp/job/compile.out /tmp/job/run.out /tmp/job/answer 2>/dev/null | sed 's/^/        /'
fi
CHECKS

start=$SECONDS
# Each link dies with its parent: this script -> timeout -> unshare -> the
# namespace's PID 1 (--kill-child) -> the whole namespace.
bg_run setpriv --pdeathsig KILL -- timeout -k 10 "$FRESH_TIMEOUT" \
	setpriv --pdeathsig KILL -- \
	unshare --mount --pid --fork --kill-child --mount-proc --propagation private \
	/bin/bash "$0" __fresh "$work" "$deb" </dev/null >"$work/fresh.log" 2>&1
rc=$?
n_ok=$(grep -c '^ok:' "$work/fresh.log")
n_fail=$(grep -c '^FAIL:' "$work/fresh.log")
grep -E '^(ok|FAIL):|^        ' "$work/fresh.log"
passed=$((passed + n_ok))
failed=$((failed + n_fail))
if [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
	fail "the fresh-root install ended with status $rc:"
	tail -n 20 "$work/fresh.log" | show
fi
echo "(fresh root: $((SECONDS - start))s)"
summary
