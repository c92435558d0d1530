#!/usr/bin/env bash
# Start, stop and query a private standalone ZooKeeper server, for tests and
# for the showcase.  Uses the Debian `zookeeper` package's jars and java; no
# system service, no fixed port, everything lives under one directory.
#
#   scripts/zk-server.sh start  DIR PORT   write DIR/zoo.cfg, start, wait until it
#                                          answers "imok" and serves requests
#   scripts/zk-server.sh stop   DIR        TERM (then KILL) the server of DIR
#   scripts/zk-server.sh status DIR        exit 0 running+answering, 1 running but
#                                          not answering, 3 not running
#   scripts/zk-server.sh ruok   PORT       exit 0 if 127.0.0.1:PORT answers "imok"
#
# Files in DIR: zoo.cfg, log4j.properties, data/, zk.log (server log),
# zk.out (the JVM's stdout/stderr), zk.pid.
#
# Environment: JAVA (default: java on PATH), ZK_JAVA_DIR (default
# /usr/share/java), ZK_START_TIMEOUT (seconds, default 20), ZK_HEAP (default 256m).
#
# tickTime=500 so that a client can have a session as short as 1 s (ZooKeeper
# clamps session timeouts to [2, 20] x tickTime); maxSessionTimeout=20000.
# forceSync=no: a throwaway test server does not need an fsync per write.
# (An ensemble mode is planned; only standalone exists today.)

set -euo pipefail

readonly PROG=${0##*/}
JAVA=${JAVA:-java}
ZK_JAVA_DIR=${ZK_JAVA_DIR:-/usr/share/java}
ZK_START_TIMEOUT=${ZK_START_TIMEOUT:-20}
ZK_HEAP=${ZK_HEAP:-256m}
readonly STOP_TERM_WAIT=10 # seconds between TERM and KILL
readonly STOP_KILL_WAIT=5  # seconds to wait for the process to vanish after KILL

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 2
}

usage() {
	cat >&2 <<EOF
usage: $PROG start DIR PORT
       $PROG stop DIR
       $PROG status DIR
       $PROG ruok PORT
EOF
	exit 2
}

valid_port() {
	[[ $1 =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

# Absolute, physical path of an existing directory.
abs_dir() {
	(cd -- "$1" && pwd -P)
}

# Send a four-letter word to 127.0.0.1:PORT and print the answer (at most
# 64 KiB).  Bounded: the whole exchange runs under `timeout`.
fourlw() {
	local cmd=$1 port=$2
	# shellcheck disable=SC2016 # expanded by the inner bash, on purpose
	timeout 3 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$2" || exit 1
		printf %s "$1" >&3
		head -c 65536 <&3
	' _ "$cmd" "$port" 2>/dev/null
}

# Does 127.0.0.1:PORT answer "ruok" with "imok"?
ruok() {
	local reply
	reply=$(fourlw ruok "$1") || return 1
	[[ $reply == imok ]]
}

# Is the server on PORT serving requests?  "ruok" says "imok" as soon as the
# port is open, before the server takes sessions; "srvr" names the server's
# mode only once it is serving.
serving() {
	local reply
	ruok "$1" || return 1
	reply=$(fourlw srvr "$1") || return 1
	[[ $reply == *"Mode: "* ]]
}

# Is PID a live (not zombie) process?  PID 1 here may not reap orphans, so a
# dead server can linger as a zombie that `kill -0` still reports.
alive() {
	local pid=$1 stat
	[[ -n $pid ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z && ${stat%% *} != X ]]
}

# Is PID the server started for DIR (guards against a recycled PID)?
is_our_server() {
	local pid=$1 dir=$2 cmdline
	alive "$pid" || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *QuorumPeerMain* && $cmdline == *"$dir/zoo.cfg"* ]]
}

read_pid() {
	local pidfile=$1/zk.pid pid=
	if [[ -f $pidfile ]]; then
		read -r pid <"$pidfile" || true
	fi
	[[ $pid =~ ^[0-9]+$ ]] && printf '%s' "$pid"
	return 0
}

cfg_port() {
	sed -n 's/^clientPort=\([0-9][0-9]*\)$/\1/p' "$1/zoo.cfg" 2>/dev/null | head -n 1 || true
}

write_config() {
	local dir=$1 port=$2
	cat >"$dir/zoo.cfg" <<EOF
# Written by $PROG: a private standalone test server.
tickTime=500
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
minSessionTimeout=1000
maxSessionTimeout=20000
maxClientCnxns=0
standaloneEnabled=true
reconfigEnabled=false
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr,conf
forceSync=no
preAllocSize=4096
snapCount=10000
autopurge.snapRetainCount=3
autopurge.purgeInterval=0
EOF
	cat >"$dir/log4j.properties" <<EOF
# Written by $PROG.
log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$dir/zk.log
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
EOF
}

cmd_start() {
	(($# == 2)) || usage
	local dir=$1 port=$2 pid jar cp deadline
	valid_port "$port" || die "bad port: $port"
	command -v "$JAVA" >/dev/null || die "java not found (apt-get install default-jdk-headless)"
	for jar in zookeeper.jar slf4j-log4j12.jar log4j-1.2.jar; do
		[[ -r $ZK_JAVA_DIR/$jar ]] || die "$ZK_JAVA_DIR/$jar missing (apt-get install zookeeper)"
	done

	mkdir -p -- "$dir"
	dir=$(abs_dir "$dir")
	pid=$(read_pid "$dir")
	if [[ -n $pid ]] && is_our_server "$pid" "$dir"; then
		die "already running in $dir (pid $pid)"
	fi
	if ruok "$port"; then
		die "something already answers on 127.0.0.1:$port"
	fi

	mkdir -p -- "$dir/data"
	rm -f -- "$dir/zk.pid"
	write_config "$dir" "$port"
	cp="$dir:$ZK_JAVA_DIR/zookeeper.jar:$ZK_JAVA_DIR/slf4j-log4j12.jar:$ZK_JAVA_DIR/log4j-1.2.jar"

	# A session of its own, so that the caller's terminal signals and process
	# group kills do not reach it; its PID is recorded by the process itself
	# right before it becomes the JVM, so it is right even if setsid forks.
	# shellcheck disable=SC2016 # expanded by the inner bash, on purpose
	setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ "$dir/zk.pid" \
		"$JAVA" "-Xmx$ZK_HEAP" -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true \
		"-Dlog4j.configuration=file:$dir/log4j.properties" \
		"-Dzookeeper.log.dir=$dir" -Dzookeeper.jmx.log4j.disable=true \
		-cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
		</dev/null >"$dir/zk.out" 2>&1 &

	deadline=$((SECONDS + ZK_START_TIMEOUT))
	pid=
	while ((SECONDS < deadline)); do
		[[ -n $pid ]] || pid=$(read_pid "$dir")
		if [[ -n $pid ]] && ! alive "$pid"; then
			printf '%s: server exited during startup; tail of %s:\n' "$PROG" "$dir/zk.log" >&2
			tail -n 30 "$dir/zk.log" "$dir/zk.out" >&2 2>/dev/null || true
			rm -f -- "$dir/zk.pid"
			exit 1
		fi
		if [[ -n $pid ]] && serving "$port"; then
			printf '%s: ZooKeeper running in %s, 127.0.0.1:%s, pid %s\n' "$PROG" "$dir" "$port" "$pid"
			return 0
		fi
		sleep 0.1
	done
	printf '%s: 127.0.0.1:%s not serving within %ss; stopping it\n' "$PROG" "$port" "$ZK_START_TIMEOUT" >&2
	tail -n 30 "$dir/zk.log" "$dir/zk.out" >&2 2>/dev/null || true
	cmd_stop "$dir" >&2 || true
	exit 1
}

# Wait up to $2 seconds for PID $1 to die.
wait_gone() {
	local pid=$1 deadline=$((SECONDS + $2))
	while alive "$pid"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

cmd_stop() {
	(($# == 1)) || usage
	local dir=$1 pid
	[[ -d $dir ]] || {
		printf '%s: %s: no such directory (not running)\n' "$PROG" "$dir"
		return 0
	}
	dir=$(abs_dir "$dir")
	pid=$(read_pid "$dir")
	if [[ -z $pid ]] || ! is_our_server "$pid" "$dir"; then
		printf '%s: not running in %s\n' "$PROG" "$dir"
		rm -f -- "$dir/zk.pid"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" "$STOP_TERM_WAIT"; then
		printf '%s: pid %s ignored TERM for %ss, sending KILL\n' "$PROG" "$pid" "$STOP_TERM_WAIT" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" "$STOP_KILL_WAIT" || die "pid $pid survived KILL"
	fi
	rm -f -- "$dir/zk.pid"
	printf '%s: stopped ZooKeeper in %s (pid %s)\n' "$PROG" "$dir" "$pid"
}

cmd_status() {
	(($# == 1)) || usage
	local dir=$1 pid port
	if [[ ! -d $dir ]]; then
		printf 'not running\n'
		return 3
	fi
	dir=$(abs_dir "$dir")
	pid=$(read_pid "$dir")
	if [[ -z $pid ]] || ! is_our_server "$pid" "$dir"; then
		printf 'not running\n'
		return 3
	fi
	port=$(cfg_port "$dir")
	if [[ -n $port ]] && serving "$port"; then
		printf 'running, pid %s, 127.0.0.1:%s\n' "$pid" "$port"
		return 0
	fi
	printf 'pid %s alive but 127.0.0.1:%s is not serving\n' "$pid" "${port:-?}"
	return 1
}

main() {
	(($# >= 1)) || usage
	local cmd=$1
	shift
	case $cmd in
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	status) cmd_status "$@" ;;
	ruok)
		(($# == 1)) || usage
		valid_port "$1" || die "bad port: $1"
		if ruok "$1"; then echo imok; else
			echo "no answer" >&2
			return 1
		fi
		;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
