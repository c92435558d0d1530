#!/bin/sh
# sandbox-users.sh - create the sandbox users (ftsbx0, ftsbx1, ...) the way
# the Debian package does, for clusters run from the source tree (demo.sh,
# test.sh).  The list is systemd/ftcluster.sysusers; its "u ftsbx..." lines
# are made with systemd-sysusers where it is installed, else with
# groupadd/useradd (a fresh Debian root has the latter only).  Users that
# exist are left alone.  Needs root; without it, says so and does nothing
# (the daemons only note that the uids are not in the user database).
set -eu

list=$(cd "$(dirname "$0")/.." && pwd)/systemd/ftcluster.sysusers
[ -r "$list" ] || { echo "sandbox-users.sh: no $list" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
	echo "sandbox-users.sh: not root, sandbox users not created" >&2
	exit 0
fi

if command -v systemd-sysusers >/dev/null 2>&1; then
	out=$(grep '^u *ftsbx' "$list" | systemd-sysusers - 2>&1) || {
		printf '%s\n' "$out" >&2
		exit 1
	}
else
	grep '^u *ftsbx' "$list" | while read -r _ name id _; do
		getent passwd "$id" >/dev/null && continue
		getent group "$id" >/dev/null || groupadd --system --gid "$id" "$name"
		useradd --system --uid "$id" --gid "$id" --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin \
			--comment "ftcluster sandbox" "$name"
	done
fi
n=$(grep -c '^u *ftsbx' "$list")
echo "sandbox users: $n (ftsbx0..ftsbx$((n - 1))) present"
