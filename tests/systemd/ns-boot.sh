#!/bin/bash
# ns-boot.sh - make a private world for systemd, then exec it as PID 1.
#
# Run by test_systemd.py as PID 1 of fresh PID, mount, UTS, IPC, network and
# cgroup namespaces:
#
#   unshare --pid --mount --uts --ipc --net --cgroup --fork --kill-child \
#           --mount-proc --propagation private -- /bin/bash ns-boot.sh WORK
#
# Nothing here (nor anything systemd does afterwards) may change the host:
# systemd's own sysinit units once wiped a host's whole /tmp.  So, in this
# mount namespace only:
#   * every host file system is remounted read-only (/, and any other);
#   * /tmp, /var, /run get fresh tmpfs; /etc and /usr become overlays whose
#     writable layer is a tmpfs (so /etc writes stay private); /dev is a
#     tmpfs holding only null, zero, full, random, urandom, tty and a private
#     devpts; /proc/sys and /sys are read-only (only /proc/sys/net, which
#     belongs to the private network namespace, stays writable);
#   * /sys/fs/cgroup is a cgroup2 mount of the private cgroup namespace, whose
#     root is the cgroup the test made for it;
#   * systemd sees only the units it needs: the host's /etc/systemd/system is
#     emptied, every *.wants/*.requires directory of /usr/lib/systemd/system
#     is removed from a private copy of it, the generators are hidden, and
#     the test's units (WORK/units: its target, masks, the ftcluster units
#     and drop-ins) are in /run/systemd/system;
#   * before exec'ing systemd, the result is checked; any doubt aborts.
#
# WORK (a directory of the test on the host) holds:
#   units/   unit files and drop-ins for /run/systemd/system
#   dest/    a "make install DESTDIR=" tree: dest/usr is overlaid on /usr,
#            dest/etc copied into the private /etc
#   shared/  bind-mounted read-write at /run/ftsd-test (ZooKeeper's directory,
#            anything the test and the namespace exchange)
#   scratch/ an empty mount point: the tmpfs holding the private layers
#
# Exits non-zero (which ends the namespace, and with it every mount made
# here) on the first failure.
set -euo pipefail

die() {
	echo "ns-boot: $*" >&2
	exit 1
}
say() { echo "ns-boot: $*" >&2; }

[ "$$" = 1 ] || die "must be PID 1 of a new PID namespace (am $$)"
[ $# = 1 ] || die "usage: ns-boot.sh WORK"
WORK=$1
case $WORK in
/*) ;;
*) die "WORK must be absolute: $WORK" ;;
esac
for d in units dest shared scratch; do
	[ -d "$WORK/$d" ] || die "$WORK/$d missing"
done
SYSTEMD=${FTSD_SYSTEMD:-/lib/systemd/systemd}
UNITDIR=/usr/lib/systemd/system

# Mount points of this namespace (unescaped enough for our paths: no
# blanks), deepest first.
mounts_below() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Never let anything propagate back to the host (unshare already did this;
# repeat it, it is cheap and it is the whole point).
mount --make-rprivate /

# ---- 1. the private scratch tmpfs, and what is built in it ----
SCR=$WORK/scratch
mount -t tmpfs -o mode=0755,size=1g ftsd-scratch "$SCR"
mkdir -p "$SCR"/{etc.up,etc.wk,usr.up,usr.wk,empty,sysunits,dev}

# /dev: a tmpfs with the harmless character devices bound in, and a devpts
# instance of its own.
mount -t tmpfs -o mode=0755,nosuid,size=1m ftsd-dev "$SCR/dev"
for n in null zero full random urandom tty; do
	touch "$SCR/dev/$n"
	mount --bind "/dev/$n" "$SCR/dev/$n"
done
mkdir -p "$SCR/dev/pts" "$SCR/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$SCR/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev ftsd-shm "$SCR/dev/shm"
ln -s pts/ptmx "$SCR/dev/ptmx"
ln -s /proc/self/fd "$SCR/dev/fd"
ln -s /proc/self/fd/0 "$SCR/dev/stdin"
ln -s /proc/self/fd/1 "$SCR/dev/stdout"
ln -s /proc/self/fd/2 "$SCR/dev/stderr"

# systemd's unit directory without any .wants/.requires: nothing is pulled
# in but what a unit file names itself.
cp -a "$UNITDIR/." "$SCR/sysunits/"
find "$SCR/sysunits" -mindepth 1 -maxdepth 1 \( -name '*.wants' -o -name '*.requires' \) \
	-exec rm -rf {} +

# ---- 2. every host file system read-only in this namespace ----
# (/proc, /sys and /dev are replaced or handled below; the sandboxing
# machinery's mounts are left exactly as they are.)
while read -r mp; do
	case $mp in
	/proc | /proc/* | /sys | /sys/* | /dev | /dev/* | "$SCR" | "$SCR"/* | /mnt/sandboxing*) continue ;;
	esac
	mount -o remount,bind,ro "$mp" 2>/dev/null || {
		# Only "/" must succeed; the test's own checks below catch the rest.
		[ "$mp" != / ] || die "cannot remount / read-only"
		say "warning: could not remount $mp read-only"
	}
done < <(awk '{ print $5 }' /proc/self/mountinfo)

# ---- 3. /proc/sys and /sys read-only, a private cgroup2 ----
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
# /proc/sys/net belongs to the private network namespace: writable (a bind
# mount inherits the read-only flag, hence the remount).
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
if [ -e /proc/sysrq-trigger ]; then
	mount --bind /proc/sysrq-trigger /proc/sysrq-trigger
	mount -o remount,bind,ro /proc/sysrq-trigger
fi
# Unmount the host's cgroup mounts (v1 controllers, the v2 at unified/) in
# this namespace, then mount the private cgroup namespace's cgroup2.
for mp in $(mounts_below /sys/fs/cgroup); do
	umount -l "$mp" 2>/dev/null || true
done
mount -o remount,bind,ro /sys
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup

# ---- 4. private /etc ----
if mount -t overlay -o "lowerdir=/etc,upperdir=$SCR/etc.up,workdir=$SCR/etc.wk" ftsd-etc /etc 2>/dev/null; then
	say "/etc: overlay on the host's /etc, writes private"
else
	say "/etc: overlayfs unavailable, using a tmpfs copy"
	mkdir -p "$SCR/etc.copy"
	cp -a /etc/. "$SCR/etc.copy/"
	mount --bind "$SCR/etc.copy" /etc
fi
# The host's enabled units and wants are not ours to start.
rm -rf /etc/systemd/system
mkdir -p /etc/systemd/system /etc/systemd/system.conf.d /etc/systemd/journald.conf.d
: >/etc/fstab
echo ftsd-test >/etc/hostname
# A machine ID of its own (the journal directory is named after it).
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >/etc/machine-id
echo >>/etc/machine-id
cat >/etc/systemd/system.conf.d/ftsd-test.conf <<'EOF'
[Manager]
ShowStatus=no
DefaultTimeoutStartSec=30s
DefaultTimeoutStopSec=15s
DefaultLimitCORE=0
EOF
cat >/etc/systemd/journald.conf.d/ftsd-test.conf <<'EOF'
[Journal]
Storage=volatile
RuntimeMaxUse=64M
RateLimitBurst=0
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
ReadKMsg=no
Audit=no
EOF
if [ -d "$WORK/dest/etc" ]; then
	cp -a "$WORK/dest/etc/." /etc/
fi

# ---- 5. private /usr: the installed tree over the host's ----
if [ -d "$WORK/dest/usr" ]; then
	mount -t overlay -o "lowerdir=$WORK/dest/usr:/usr,upperdir=$SCR/usr.up,workdir=$SCR/usr.wk" \
		ftsd-usr /usr || die "cannot overlay $WORK/dest/usr on /usr (overlayfs needed)"
fi
mount --bind "$SCR/sysunits" "$UNITDIR"
mount -o remount,bind,ro "$UNITDIR"
for g in /usr/lib/systemd/system-generators /usr/lib/systemd/system-environment-generators \
	/usr/local/lib/systemd/system-generators /etc/systemd/system-generators; do
	[ -d "$g" ] || continue
	mount --bind "$SCR/empty" "$g"
	mount -o remount,bind,ro "$g"
done

# ---- 6. private /run, with the test's units ----
for mp in $(mounts_below /run); do
	umount -l "$mp" 2>/dev/null || true
done
mount -t tmpfs -o mode=0755,nosuid,nodev,size=256m ftsd-run /run
mkdir -p /run/systemd/system /run/lock /run/ftsd-test
cp -a "$WORK/units/." /run/systemd/system/
mount --bind "$WORK/shared" /run/ftsd-test
# (a bind mount inherits the read-only flag of the mount it comes from)
mount -o remount,bind,rw /run/ftsd-test

# ---- 7. /dev, /var, /tmp ----
for mp in $(mounts_below /dev); do
	umount -l "$mp" 2>/dev/null || true
done
mount --move "$SCR/dev" /dev
mount -t tmpfs -o mode=0755,nosuid,nodev,size=512m ftsd-var /var
mkdir -p /var/lib /var/log /var/cache /var/spool /var/tmp
chmod 1777 /var/tmp
ln -s /run /var/run
ln -s /run/lock /var/lock
# Last: this hides WORK (it lives in the host's /tmp).
mount -t tmpfs -o mode=1777,nosuid,nodev,size=512m ftsd-tmp /tmp

# ---- 8. check before booting: abort on any doubt ----
fstype() { stat -f -c %T "$1"; }
[ "$(fstype /tmp)" = tmpfs ] || die "/tmp is not a private tmpfs"
[ "$(fstype /var)" = tmpfs ] || die "/var is not a private tmpfs"
[ "$(fstype /run)" = tmpfs ] || die "/run is not a private tmpfs"
[ "$(fstype /sys/fs/cgroup)" = cgroup2fs ] || die "/sys/fs/cgroup is not cgroup2"
case $(fstype /etc) in overlayfs | tmpfs) ;; *) die "/etc is not private" ;; esac
# access(2) says EROFS for a read-only mount, even to root: nothing is
# written to find out.
for p in / /work /home /root /srv /opt /boot /proc/sys/kernel/sysrq /proc/sys/fs/file-max /sys/kernel; do
	[ -e "$p" ] || continue
	[ ! -w "$p" ] || die "$p is writable"
done
[ -z "$(ls -A /tmp)" ] || die "/tmp is not empty"
hostname ftsd-test

say "booting $SYSTEMD"
cd /
exec env -i container=ftsd-test PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	LANG=C.UTF-8 "$SYSTEMD" --unit=ftsd-test.target --show-status=no
