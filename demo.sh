#!/usr/bin/env bash
# ftcluster showcase: builds, starts a local cluster (an embedded ZooKeeper,
# 7 nodes and a gateway on 127.0.0.1, gateway on port 8888) and walks through
# failure detection and fail-over, printing every step to the screen and to
# output.log beside this script.
#
#   ./demo.sh           the whole showcase, then a clean shutdown
#   ./demo.sh --serve   build and start the cluster, then keep it serving on
#                       port 8888 until interrupted (Ctrl-C)
#
# Exits non-zero if any response is missing or wrong.  FT_TEST_CGROUPS=off
# (as the integration tests set it) runs the nodes without cgroups.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)
cd "$ROOT"
SERVE=0
case "${1:-}" in
--serve) SERVE=1 ;;
"") ;;
-h | --help)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [--serve]" >&2
	exit 64
	;;
esac

exec > >(tee "$ROOT/output.log") 2>&1

RUN="$ROOT/run"
NODES=(1 2 3 4 5 6 7)
GW_PORT=8888
declare -A NODE_PID=()
GW_PID=""
FAILED=0

step() { printf '\n\033[1m=== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
fail() {
	printf 'FAILED: %s\n' "$*"
	FAILED=1
}

cleanup() {
	local pids=()
	[ -n "$GW_PID" ] && pids+=("$GW_PID")
	for id in "${!NODE_PID[@]}"; do pids+=("${NODE_PID[$id]}"); done
	if [ "${#pids[@]}" -gt 0 ]; then
		kill -TERM "${pids[@]}" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "${pids[@]}" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "${pids[@]}" 2>/dev/null || true
	fi
	[ -d "$RUN/zk" ] && scripts/zk-server.sh stop "$RUN/zk" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
step "1. Build and test"
scripts/ensure-deps.sh
scripts/sandbox-users.sh
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	./autogen.sh
fi
[ -f Makefile ] || ./configure --quiet
make -j2 --quiet
if make -j2 --quiet check >/dev/null 2>&1; then
	say "unit tests: all passed"
else
	fail "unit tests failed:"
	grep -h -B2 -A20 -E "^(FAIL|ERROR)" test-suite.log || true
	exit 1
fi

# ---------------------------------------------------------------------------
step "2. Start ZooKeeper, 7 nodes and the gateway"
if (exec 3<>/dev/tcp/127.0.0.1/$GW_PORT) 2>/dev/null; then
	say "port $GW_PORT is already in use: stop whatever serves it first"
	exit 1
fi
rm -rf "$RUN"
mkdir -p "$RUN"
ZK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
scripts/zk-server.sh start "$RUN/zk" "$ZK_PORT"
CONFIG="$RUN/ftcluster.yaml"
# The cluster's ZooKeeper credential: only it may change its znodes.
(umask 077 && printf 'demo:%s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >"$RUN/zk.auth")
# The cluster key: members prove they hold it, and seal every frame and
# gossip datagram with it.
./ftctl keygen "$RUN/cluster.key" >/dev/null
sed -e "s|^cluster: .*|cluster: demo-$$|" \
	-e "s|key_file: /etc/ftcluster/cluster.key|key_file: $RUN/cluster.key|" \
	-e "s|auth_file: /etc/ftcluster/zk.auth|auth_file: $RUN/zk.auth|" \
	-e "s|connect: 127.0.0.1:2181|connect: 127.0.0.1:$ZK_PORT|" \
	-e "s|http: 127.0.0.1:8888|http: 127.0.0.1:$GW_PORT|" \
	-e "s|state_dir: .*|state_dir: $RUN/state|" \
	-e "s|log_dir: .*|log_dir: $RUN/log\n  lib_dir: $ROOT|" \
	etc/ftcluster.yaml >"$CONFIG"
# Programs run in a bubblewrap sandbox, which needs unprivileged user
# namespaces and a fresh /proc; some containers and chroots allow neither.
# There the showcase still runs, with only the limits, and says so.
if ! bwrap --unshare-all --die-with-parent --ro-bind / / --proc /proc --dev /dev true 2>"$RUN/bwrap-probe.err"; then
	say "WARNING: this machine cannot create sandboxes ($(head -1 "$RUN/bwrap-probe.err"));"
	say "         the showcase runs programs with resource limits only (sandbox.enabled: 0)."
	sed -i 's|^  enabled: 1 |  enabled: 0 |; s|^  allow_unsafe: 0 |  allow_unsafe: 1 |' "$CONFIG"
fi
if [ "${FT_TEST_CGROUPS:-auto}" = off ]; then
	sed -i 's|^  memory: auto |  memory: rlimit |' "$CONFIG"
fi
./ftnode --config "$CONFIG" --check-config >/dev/null
for id in "${NODES[@]}"; do
	./ftnode --config "$CONFIG" --id "$id" >"$RUN/node-$id.out" 2>"$RUN/node-$id.err" &
	NODE_PID[$id]=$!
	disown "${NODE_PID[$id]}" # no "Killed" job notices: the kills are the show
	say "node $id: pid ${NODE_PID[$id]}"
done
./ftgw --config "$CONFIG" >"$RUN/gateway.out" 2>"$RUN/gateway.err" &
GW_PID=$!
say "gateway: pid $GW_PID, http://127.0.0.1:$GW_PORT"

# Poll GET /cluster until it answers 200 (a leader exists); bounded.
wait_leader() {
	local deadline=$((SECONDS + ${1:-30}))
	while [ $SECONDS -lt $deadline ]; do
		if curl -sf -o /dev/null "http://127.0.0.1:$GW_PORT/cluster"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}
leader_id() {
	curl -s "http://127.0.0.1:$GW_PORT/cluster" | awk '/^leader/ {print $2}'
}

# ---------------------------------------------------------------------------
step "3. Wait for a leader"
wait_leader 60 || {
	fail "no leader within 60 s; the daemons said:"
	tail -n 5 "$RUN"/node-*.err "$RUN"/gateway.err
	exit 1
}
LEADER=$(leader_id)
say "leader elected: node $LEADER"
say "heartbeat logs of each node (files, and over HTTP):"
for id in "${NODES[@]}"; do
	say "  node $id: $RUN/log/node-$id/summary.log  $RUN/log/node-$id/verbose.log  http://127.0.0.1:720$id/log/summary"
done
./ftctl --gateway "http://127.0.0.1:$GW_PORT" status

# A distinct program per request (so no cache answers it) with an answer
# this script can check: job N returns "job N: fib(N+20) = F".
SRC="$RUN/programs"
mkdir -p "$SRC"
make_program() {
	local n=$1 f="$SRC/Job$1.java"
	cat >"$f" <<JAVA
public class Job$n {
    private long fib(int k) { long a = 0, b = 1; for (int i = 0; i < k; i++) { long t = a + b; a = b; b = t; } return a; }
    public String run() { return "job $n: fib(" + ($n + 20) + ") = " + fib($n + 20); }
}
JAVA
	echo "$f"
}
expected() {
	python3 -c "
a,b=0,1
for _ in range($1+20): a,b=b,a+b
print('job $1: fib(%d) = %d' % ($1+20, a))"
}
# Post one program; print the request and the response; check the answer.
request() {
	local n=$1 f out code
	f=$(make_program "$n")
	out=$(curl -s -m 120 -w '\n%{http_code}' -H 'Content-Type: text/x-java-source' \
		--data-binary @"$f" "http://127.0.0.1:$GW_PORT/compileandrun")
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	say "request  $n: Job$n.java (expects \"$(expected "$n")\")"
	say "response $n: HTTP $code \"$out\""
	[ "$code" = 200 ] && [ "$out" = "$(expected "$n")" ] || fail "request $n: wrong or missing answer"
}

if [ "$SERVE" = 1 ]; then
	make_program 1 >/dev/null
	step "Serving on http://127.0.0.1:$GW_PORT until interrupted (Ctrl-C)"
	say "try: curl -H 'Content-Type: text/x-java-source' --data-binary @$SRC/Job1.java http://127.0.0.1:$GW_PORT/compileandrun"
	wait "$GW_PID" || true
	exit 0
fi

# ---------------------------------------------------------------------------
step "4. Nine requests, one after another"
for n in 1 2 3 4 5 6 7 8 9; do request "$n"; done

# ---------------------------------------------------------------------------
step "5. kill -9 the lowest-ID follower"
VICTIM=""
for id in "${NODES[@]}"; do
	if [ "$id" != "$LEADER" ]; then
		VICTIM=$id
		break
	fi
done
say "killing node $VICTIM (pid ${NODE_PID[$VICTIM]}) with SIGKILL"
kill -9 "${NODE_PID[$VICTIM]}"
unset "NODE_PID[$VICTIM]"
say "waiting until every other node has logged it failed..."
deadline=$((SECONDS + 20))
while [ $SECONDS -lt $deadline ]; do
	missing=0
	for id in "${!NODE_PID[@]}"; do
		grep -q "no heartbeat from server $VICTIM - SERVER FAILED" "$RUN/log/node-$id/summary.log" || missing=1
	done
	# The gateway is a gossip member too: its list must drop the node as well.
	curl -s "http://127.0.0.1:$GW_PORT/cluster" | grep -q "^$VICTIM " && missing=1
	[ $missing = 0 ] && break
	sleep 0.2
done
for id in $(printf '%s\n' "${!NODE_PID[@]}" | sort -n); do
	line=$(grep -h -m1 -e "heard from server [0-9]* that server $VICTIM failed" \
		-e "no heartbeat from server $VICTIM - SERVER FAILED" "$RUN/log/node-$id/summary.log" || true)
	if [ -n "$line" ]; then say "  node $id log: $line"; else fail "node $id did not log node $VICTIM as failed"; fi
done
say "cluster status now:"
curl -s "http://127.0.0.1:$GW_PORT/cluster"
if curl -s "http://127.0.0.1:$GW_PORT/cluster" | grep -q "^$VICTIM "; then fail "node $VICTIM still listed"; fi

# ---------------------------------------------------------------------------
step "6. kill -9 the leader, then nine requests in the background"
say "killing leader node $LEADER (pid ${NODE_PID[$LEADER]}) with SIGKILL"
kill -9 "${NODE_PID[$LEADER]}"
unset "NODE_PID[$LEADER]"
OLD_LEADER=$LEADER
sleep 1
BG="$RUN/background"
mkdir -p "$BG"
declare -A BG_PID=()
for n in 11 12 13 14 15 16 17 18 19; do
	(request "$n" >"$BG/$n.out" 2>&1; echo $? >"$BG/$n.rc") &
	BG_PID[$n]=$!
done
say "9 requests sent in the background (jobs 11-19)"

# ---------------------------------------------------------------------------
step "7. The new leader, and the nine responses"
deadline=$((SECONDS + 60))
LEADER=""
while [ $SECONDS -lt $deadline ]; do
	LEADER=$(leader_id)
	[ -n "$LEADER" ] && [ "$LEADER" != "$OLD_LEADER" ] && break
	sleep 0.2
done
say "new leader: node $LEADER (was $OLD_LEADER)"
for n in 11 12 13 14 15 16 17 18 19; do
	wait "${BG_PID[$n]}" || true
	cat "$BG/$n.out"
	grep -q FAILED "$BG/$n.out" && FAILED=1
	[ -s "$BG/$n.out" ] || fail "request $n: no output"
done
./ftctl --gateway "http://127.0.0.1:$GW_PORT" status

# ---------------------------------------------------------------------------
step "8. One more request"
request 21

# ---------------------------------------------------------------------------
step "9. Heartbeat logs of every node"
for id in "${NODES[@]}"; do
	say "  node $id: $RUN/log/node-$id/summary.log"
	say "  node $id: $RUN/log/node-$id/verbose.log"
done
say "  gateway: $RUN/log/gateway/summary.log"
say "  gateway: $RUN/log/gateway/verbose.log"

# ---------------------------------------------------------------------------
step "10. Shut down"
cleanup
GW_PID=""
NODE_PID=()
say "cluster stopped"
if [ "$FAILED" != 0 ]; then
	say "SHOWCASE FAILED: some response was missing or wrong"
	exit 1
fi
say "SHOWCASE PASSED: every response present and correct"
