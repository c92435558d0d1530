#!/usr/bin/env bash
# Start, stop and query private ZooKeeper servers, for tests and for the
# showcase: one standalone server, or an ensemble of N servers.  Uses the
# Debian `zookeeper` package's jars and java; no system service, no fixed
# port, everything of one server lives under one directory.
#
#   scripts/zk-server.sh start DIR PORT [HOST]
#         write DIR/zoo.cfg (standalone, on HOST, default 127.0.0.1), start,
#         wait until it answers "imok" and serves requests
#   scripts/zk-server.sh start DIR
#         start again the server DIR already has a zoo.cfg for (standalone or
#         ensemble member: same address, same data), wait until it serves
#   scripts/zk-server.sh start-ensemble DIR N [SPEC...]
#         N servers (N >= 1; 3 or 5 make sense) in DIR/zk1 .. DIR/zkN, each its
#         own process, pid file, data and logs; start them all and wait until
#         every one serves; write the client connect string to DIR/connect and
#         print it as the last line, "connect HOST:PORT,HOST:PORT,...".
#         Without SPECs every server is on 127.0.0.1 with free ports.  SPEC i
#         is HOST:CLIENTPORT:PEERPORT:ELECTIONPORT[:NETNS] for server i; with
#         NETNS the server runs inside that network namespace (ip netns exec).
#   scripts/zk-server.sh stop DIR
#         TERM (then KILL) the server of DIR; for an ensemble DIR, of every
#         member (stop DIR/zkI stops member I alone)
#   scripts/zk-server.sh status DIR
#         exit 0 running and serving, 1 running but not serving, 3 not running;
#         for an ensemble DIR one line per member, the worst status wins
#   scripts/zk-server.sh connect DIR
#         print the client connect string of DIR's server or ensemble
#   scripts/zk-server.sh ruok PORT [HOST]
#         exit 0 if HOST:PORT (default 127.0.0.1) answers "imok"
#
# Files in a server's DIR: zoo.cfg, log4j.properties, data/ (with myid for an
# ensemble member), zk.log (server log), zk.out (the JVM's stdout/stderr),
# zk.pid, and netns if it runs in a network namespace.  An ensemble DIR also
# holds `ensemble` (the member count) and `connect`.
#
# Environment: JAVA (default: java on PATH), ZK_JAVA_DIR (default
# /usr/share/java), ZK_START_TIMEOUT (seconds, default 20; twice that for an
# ensemble), ZK_HEAP (default 256m).
#
# tickTime=500 so that a client can have a session as short as 1 s (ZooKeeper
# clamps session timeouts to [2, 20] x tickTime); maxSessionTimeout=20000.
# forceSync=no: a throwaway test server does not need an fsync per write.

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
usage: $PROG start DIR [PORT [HOST]]
       $PROG start-ensemble DIR N [HOST:CLIENTPORT:PEERPORT:ELECTIONPORT[:NETNS]...]
       $PROG stop DIR
       $PROG status DIR
       $PROG connect DIR
       $PROG ruok PORT [HOST]
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

# Send a four-letter word to HOST:PORT and print the answer (at most
# 64 KiB).  Bounded: the whole exchange runs under `timeout`.
fourlw() {
	local cmd=$1 host=$2 port=$3
	# shellcheck disable=SC2016 # expanded by the inner bash, on purpose
	timeout 3 bash -c '
		exec 3<>"/dev/tcp/$2/$3" || exit 1
		printf %s "$1" >&3
		head -c 65536 <&3
	' _ "$cmd" "$host" "$port" 2>/dev/null
}

# Does HOST:PORT answer "ruok" with "imok"?
ruok() {
	local reply
	reply=$(fourlw ruok "$1" "$2") || return 1
	[[ $reply == imok ]]
}

# Is the server on HOST:PORT serving requests?  "ruok" says "imok" as soon
# as the port is open, before the server takes sessions; "srvr" names the
# server's mode only once it is serving (an ensemble member: once it is
# part of a quorum).
serving() {
	local reply
	ruok "$1" "$2" || return 1
	reply=$(fourlw srvr "$1" "$2") || return 1
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

cfg_host() {
	local h
	h=$(sed -n 's/^clientPortAddress=\(.*\)$/\1/p' "$1/zoo.cfg" 2>/dev/null | head -n 1 || true)
	printf '%s' "${h:-127.0.0.1}"
}

# Is DIR an ensemble directory (made by start-ensemble)?
is_ensemble_dir() {
	[[ ! -f $1/zoo.cfg && -f $1/ensemble ]]
}

# The member directories of ensemble DIR, one a line.
ensemble_members() {
	local dir=$1 n=0 i
	read -r n <"$dir/ensemble" || true
	[[ $n =~ ^[0-9]+$ ]] || n=0
	for ((i = 1; i <= n; i++)); do
		printf '%s/zk%d\n' "$dir" "$i"
	done
}

# Settings every server shares (standalone or member), on stdout.
common_config() {
	local dir=$1 host=$2 port=$3
	cat <<EOF
tickTime=500
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=$host
minSessionTimeout=1000
maxSessionTimeout=20000
maxClientCnxns=0
reconfigEnabled=false
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr,conf,cons
forceSync=no
preAllocSize=4096
snapCount=10000
autopurge.snapRetainCount=3
autopurge.purgeInterval=0
EOF
}

write_log4j() {
	local dir=$1
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

write_config() {
	local dir=$1 port=$2 host=$3
	{
		printf '# Written by %s: a private standalone test server.\n' "$PROG"
		common_config "$dir" "$host" "$port"
		printf 'standaloneEnabled=true\n'
	} >"$dir/zoo.cfg"
	write_log4j "$dir"
}

check_tools() {
	local jar
	command -v "$JAVA" >/dev/null || die "java not found (apt-get install default-jdk-headless)"
	for jar in zookeeper.jar slf4j-log4j12.jar log4j-1.2.jar; do
		[[ -r $ZK_JAVA_DIR/$jar ]] || die "$ZK_JAVA_DIR/$jar missing (apt-get install zookeeper)"
	done
}

# Start the server that DIR/zoo.cfg describes, in the background; returns at
# once.  Refuses if it already runs or something answers on its address.
launch() {
	local dir=$1 pid cp port host netns=
	local -a wrap=()
	pid=$(read_pid "$dir")
	if [[ -n $pid ]] && is_our_server "$pid" "$dir"; then
		die "already running in $dir (pid $pid)"
	fi
	port=$(cfg_port "$dir")
	host=$(cfg_host "$dir")
	[[ -n $port ]] || die "$dir/zoo.cfg names no clientPort"
	if ruok "$host" "$port"; then
		die "something already answers on $host:$port"
	fi
	if [[ -f $dir/netns ]]; then
		read -r netns <"$dir/netns" || true
		[[ -n $netns ]] && wrap=(ip netns exec "$netns")
	fi
	mkdir -p -- "$dir/data"
	rm -f -- "$dir/zk.pid"
	cp="$dir:$ZK_JAVA_DIR/zookeeper.jar:$ZK_JAVA_DIR/slf4j-log4j12.jar:$ZK_JAVA_DIR/log4j-1.2.jar"

	# A session of its own, so that the caller's terminal signals and process
	# group kills do not reach it; its PID is recorded by the process itself
	# right before it becomes the JVM (`ip netns exec` execs as well), so it
	# is right even if setsid forks.
	# shellcheck disable=SC2016 # expanded by the inner bash, on purpose
	setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ "$dir/zk.pid" \
		"${wrap[@]}" "$JAVA" "-Xmx$ZK_HEAP" -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true \
		"-Dlog4j.configuration=file:$dir/log4j.properties" \
		"-Dzookeeper.log.dir=$dir" -Dzookeeper.jmx.log4j.disable=true \
		-cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
		</dev/null >>"$dir/zk.out" 2>&1 &
}

# wait_serving TIMEOUT DIR...: wait until the server of every DIR serves,
# bounded by TIMEOUT seconds in all.  On failure print the tails of the logs
# and return 1 (servers still alive are left running).
wait_serving() {
	local timeout=$1 deadline dir pid all
	shift
	deadline=$((SECONDS + timeout))
	while :; do
		all=1
		for dir in "$@"; do
			pid=$(read_pid "$dir")
			if [[ -n $pid ]] && ! alive "$pid"; then
				printf '%s: server in %s exited during startup; tail of its logs:\n' \
					"$PROG" "$dir" >&2
				tail -n 30 "$dir/zk.log" "$dir/zk.out" >&2 2>/dev/null || true
				rm -f -- "$dir/zk.pid"
				return 1
			fi
			if [[ -z $pid ]] || ! serving "$(cfg_host "$dir")" "$(cfg_port "$dir")"; then
				all=0
			fi
		done
		((all)) && return 0
		if ((SECONDS >= deadline)); then
			for dir in "$@"; do
				printf '%s: %s:%s (%s) not serving within %ss; tail of its logs:\n' "$PROG" \
					"$(cfg_host "$dir")" "$(cfg_port "$dir")" "$dir" "$timeout" >&2
				tail -n 20 "$dir/zk.log" "$dir/zk.out" >&2 2>/dev/null || true
			done
			return 1
		fi
		sleep 0.1
	done
}

cmd_start() {
	(($# >= 1 && $# <= 3)) || usage
	local dir=$1 port=${2:-} host=${3:-127.0.0.1} pid
	check_tools
	if [[ -z $port ]]; then
		[[ -f $dir/zoo.cfg ]] || die "$dir/zoo.cfg missing: give a PORT to create a server"
		dir=$(abs_dir "$dir")
	else
		valid_port "$port" || die "bad port: $port"
		mkdir -p -- "$dir"
		dir=$(abs_dir "$dir")
		is_ensemble_dir "$dir" && die "$dir is an ensemble directory; start DIR/zkI"
		pid=$(read_pid "$dir")
		if [[ -n $pid ]] && is_our_server "$pid" "$dir"; then
			die "already running in $dir (pid $pid)"
		fi
		mkdir -p -- "$dir/data"
		rm -f -- "$dir/netns" "$dir/data/myid"
		write_config "$dir" "$port" "$host"
	fi
	launch "$dir"
	if wait_serving "$ZK_START_TIMEOUT" "$dir"; then
		printf '%s: ZooKeeper running in %s, %s:%s, pid %s\n' "$PROG" "$dir" \
			"$(cfg_host "$dir")" "$(cfg_port "$dir")" "$(read_pid "$dir")"
		return 0
	fi
	printf '%s: stopping it\n' "$PROG" >&2
	stop_one "$dir" >&2 || true
	exit 1
}

# N distinct TCP ports free on 127.0.0.1 right now, on one line.
free_loopback_ports() {
	local n=$1
	if command -v python3 >/dev/null; then
		python3 -c '
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
' "$n"
		return
	fi
	# Fallback: random ports nobody answers on (racy, but only a fallback).
	local -a out=()
	local p
	while ((${#out[@]} < n)); do
		p=$((20000 + RANDOM % 10000))
		[[ " ${out[*]} " == *" $p "* ]] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		out+=("$p")
	done
	echo "${out[*]}"
}

cmd_start_ensemble() {
	(($# >= 2)) || usage
	local dir=$1 n=$2 i spec host cport pport eport netns sdir opid connect='' servers=''
	shift 2
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 255)); then
		die "bad server count: $n"
	fi
	(($# == 0 || $# == n)) || die "give no SPEC or exactly $n of them"
	check_tools
	mkdir -p -- "$dir"
	dir=$(abs_dir "$dir")
	[[ -f $dir/zoo.cfg ]] && die "$dir holds a standalone server"
	if [[ -f $dir/ensemble ]]; then
		while read -r sdir; do
			opid=$(read_pid "$sdir")
			if [[ -n $opid ]] && is_our_server "$opid" "$sdir"; then
				die "ensemble member already running in $sdir (pid $opid)"
			fi
		done < <(ensemble_members "$dir")
	fi

	local -a hosts=() cports=() pports=() eports=() nss=() ports=() dirs=()
	if (($# == 0)); then
		read -r -a ports <<<"$(free_loopback_ports $((3 * n)))"
		((${#ports[@]} == 3 * n)) || die "could not find $((3 * n)) free ports"
		for ((i = 0; i < n; i++)); do
			hosts+=(127.0.0.1)
			cports+=("${ports[3 * i]}")
			pports+=("${ports[3 * i + 1]}")
			eports+=("${ports[3 * i + 2]}")
			nss+=("")
		done
	else
		for spec in "$@"; do
			host='' cport='' pport='' eport='' netns=''
			IFS=: read -r host cport pport eport netns <<<"$spec"
			if [[ -z $host ]] || ! valid_port "$cport" || ! valid_port "$pport" ||
				! valid_port "$eport"; then
				die "bad SPEC $spec (want HOST:CLIENTPORT:PEERPORT:ELECTIONPORT[:NETNS])"
			fi
			hosts+=("$host")
			cports+=("$cport")
			pports+=("$pport")
			eports+=("$eport")
			nss+=("$netns")
		done
	fi

	for ((i = 0; i < n; i++)); do
		servers+="server.$((i + 1))=${hosts[i]}:${pports[i]}:${eports[i]}"$'\n'
		connect+="${connect:+,}${hosts[i]}:${cports[i]}"
	done
	printf '%s\n' "$n" >"$dir/ensemble"
	printf '%s\n' "$connect" >"$dir/connect"
	for ((i = 0; i < n; i++)); do
		sdir="$dir/zk$((i + 1))"
		mkdir -p -- "$sdir/data"
		{
			printf '# Written by %s: member %d of a private test ensemble of %d.\n' \
				"$PROG" $((i + 1)) "$n"
			common_config "$sdir" "${hosts[i]}" "${cports[i]}"
			printf 'standaloneEnabled=false\n'
			printf '%s' "$servers"
		} >"$sdir/zoo.cfg"
		write_log4j "$sdir"
		printf '%d\n' $((i + 1)) >"$sdir/data/myid"
		if [[ -n ${nss[i]} ]]; then
			printf '%s\n' "${nss[i]}" >"$sdir/netns"
		else
			rm -f -- "$sdir/netns"
		fi
		dirs+=("$sdir")
	done
	for sdir in "${dirs[@]}"; do
		launch "$sdir"
	done
	if ! wait_serving $((2 * ZK_START_TIMEOUT)) "${dirs[@]}"; then
		printf '%s: stopping the ensemble\n' "$PROG" >&2
		for sdir in "${dirs[@]}"; do stop_one "$sdir" >&2 || true; done
		exit 1
	fi
	for sdir in "${dirs[@]}"; do
		printf '%s: ZooKeeper ensemble member in %s, %s:%s, pid %s\n' "$PROG" "$sdir" \
			"$(cfg_host "$sdir")" "$(cfg_port "$sdir")" "$(read_pid "$sdir")"
	done
	printf 'connect %s\n' "$connect"
}

# Wait up to $2 seconds for PID $1 to die.
wait_gone() {
	local pid=$1 deadline=$((SECONDS + $2))
	while alive "$pid"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

stop_one() {
	local dir=$1 pid
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

cmd_stop() {
	(($# == 1)) || usage
	local dir=$1 sdir rc=0
	[[ -d $dir ]] || {
		printf '%s: %s: no such directory (not running)\n' "$PROG" "$dir"
		return 0
	}
	dir=$(abs_dir "$dir")
	if is_ensemble_dir "$dir"; then
		while read -r sdir; do
			[[ -d $sdir ]] || continue
			stop_one "$sdir" || rc=1
		done < <(ensemble_members "$dir")
		return "$rc"
	fi
	stop_one "$dir"
}

status_one() {
	local dir=$1 pid port host
	pid=$(read_pid "$dir")
	if [[ -z $pid ]] || ! is_our_server "$pid" "$dir"; then
		printf 'not running\n'
		return 3
	fi
	port=$(cfg_port "$dir")
	host=$(cfg_host "$dir")
	if [[ -n $port ]] && serving "$host" "$port"; then
		printf 'running, pid %s, %s:%s\n' "$pid" "$host" "$port"
		return 0
	fi
	printf 'pid %s alive but %s:%s is not serving\n' "$pid" "$host" "${port:-?}"
	return 1
}

cmd_status() {
	(($# == 1)) || usage
	local dir=$1 sdir rc worst=0
	if [[ ! -d $dir ]]; then
		printf 'not running\n'
		return 3
	fi
	dir=$(abs_dir "$dir")
	if is_ensemble_dir "$dir"; then
		while read -r sdir; do
			printf '%s: ' "${sdir##*/}"
			rc=0
			status_one "$sdir" || rc=$?
			((rc > worst)) && worst=$rc
		done < <(ensemble_members "$dir")
		return "$worst"
	fi
	status_one "$dir"
}

cmd_connect() {
	(($# == 1)) || usage
	local dir=$1
	[[ -d $dir ]] || die "$dir: no such directory"
	dir=$(abs_dir "$dir")
	if is_ensemble_dir "$dir"; then
		cat -- "$dir/connect"
	elif [[ -f $dir/zoo.cfg ]]; then
		printf '%s:%s\n' "$(cfg_host "$dir")" "$(cfg_port "$dir")"
	else
		die "$dir holds no server"
	fi
}

main() {
	(($# >= 1)) || usage
	local cmd=$1
	shift
	case $cmd in
	start) cmd_start "$@" ;;
	start-ensemble) cmd_start_ensemble "$@" ;;
	stop) cmd_stop "$@" ;;
	status) cmd_status "$@" ;;
	connect) cmd_connect "$@" ;;
	ruok)
		(($# == 1 || $# == 2)) || usage
		valid_port "$1" || die "bad port: $1"
		if ruok "${2:-127.0.0.1}" "$1"; then echo imok; else
			echo "no answer" >&2
			return 1
		fi
		;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
