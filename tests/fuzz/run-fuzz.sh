#!/bin/bash
# Build the fuzzers (libFuzzer + ASan + UBSan) and run each for a bounded
# time: tests/fuzz/run-fuzz.sh [SECONDS]   (default 20, per fuzzer)
#   fuzz_gossip  gossip datagrams: codec (MACs too), freshness and membership merge
#   fuzz_frame   internal TCP frames and the JSON API "job" object in them
#   fuzz_warmproto  the warm compiler's answers (and its requests)
#   fuzz_seal    the cluster key handshake and sealed records on a work port
#
# Everything it makes lives in one temporary directory, removed on success and
# kept on failure (the crash input is there; rerun the binary on it to replay).
# Set FUZZ_KEEP=1 to keep it in any case.  Exit status is non-zero on a crash.
set -eu

secs=${1:-20}
case $secs in
'' | *[!0-9]* | 0)
	echo "usage: $0 [SECONDS>0]" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/../.."
CC=${CC:-clang}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ftfuzz.XXXXXX")
status=1
cleanup() {
	if [ "$status" -eq 0 ] && [ "${FUZZ_KEEP:-0}" != 1 ]; then
		rm -rf "$tmp"
	else
		echo "fuzz artefacts kept in $tmp" >&2
	fi
}
trap cleanup EXIT

# build NAME ARGS...: tests/fuzz/NAME.c and ARGS (sources, flags) into $tmp/NAME.
build() {
	local name=$1
	shift
	"$CC" -std=c11 -g -O1 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Isrc -D_GNU_SOURCE "tests/fuzz/$name.c" "$@" -o "$tmp/$name"
}

# fuzz NAME WHAT CORPUS MAX_LEN: run $tmp/NAME with $tmp/NAME.dict for $secs
# seconds; on a finding, show it and exit with the fuzzer's status.
fuzz() {
	local name=$1 what=$2 corpus=$3 max_len=$4 rc
	echo "fuzzing $what for ${secs}s ($tmp)" >&2
	set +e
	"$tmp/$name" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -dict="$tmp/$name.dict" -artifact_prefix="$tmp/" \
		-print_final_stats=1 "$corpus" >"$tmp/$name.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$tmp/$name.log" >&2
		echo "FAIL: $name exited with $rc; replay with: $tmp/$name INPUT, inputs:" >&2
		ls "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-* >&2 2>/dev/null || true
		status=$rc
		exit "$rc"
	fi
	grep -E '^(Done|stat::number_of_executed_units)' "$tmp/$name.log" >&2 || true
}

# shellcheck disable=SC2046 # pkg-config's flags are several words
build fuzz_gossip src/gossip/codec.c src/gossip/membership.c src/gossip/freshness.c \
	$(pkg-config --cflags --libs libsodium)

# --- seed corpus: a few valid datagrams, made with fuzz_gossip.c's keys ---
# A first byte 0: the datagram as sent (MAC and all); 1 or 3: without its
# MAC, sealed by the harness with key 0 or 1 (see fuzz_gossip.c).

mkdir "$tmp/corpus"
python3 - "$tmp/corpus" <<'PY'
import hashlib, hmac, struct, sys

def gossip_key(k):
    # crypto_kdf_derive_from_key(32, 1, "ftgossip", key) (src/gossip/codec.h)
    return hashlib.blake2b(b"", digest_size=32, key=k, salt=struct.pack("<Q", 1) + bytes(8),
                           person=b"ftgossip" + bytes(8)).digest()

KEYS = [(bytes((i * 7 + n + 1) & 255 for i in range(32)), bytes([n + 1]) * 8) for n in (0, 1)]

def body(sender, inc, sent, counter, entries, key=0):
    out = b"FTGS" + struct.pack(">BBHIQQ", 2, 0, len(entries), sender, inc, sent)
    out += KEYS[key][1] + struct.pack(">Q", counter)
    return out + b"".join(struct.pack(">IQQB", *e) for e in entries)

def sealed(b, key=0):
    return b + hmac.new(gossip_key(KEYS[key][0]), b, hashlib.sha512).digest()[:16]

seeds = {
    "empty": (body(2, 5, 1000, 1, []), 0),
    "snapshot": (body(3, 1764100000123, 42, 7,
                      [(3, 1764100000123, 40, 1), (2, 7, 12, 1), (4, 9, 3, 2)]), 0),
    # Declares member 1 (incarnation 1000, as the harness's table has it)
    # failed, and carries the gateway and the highest ID.
    "self-failed": (body(2, 7, 500, 9, [(2, 7, 13, 1), (1, 1000, 5, 2), (0, 1, 1, 1),
                                        (65535, 1, 1, 1)]), 0),
    "new-life": (body(5, 9, 0, 1, [(5, 9, 1, 1), (2, 8, 1, 1)], key=1), 1),
    # What issue 13's forger sent: "1 failed at 2^64-1".
    "forged-max": (body(2, 7, 500, 2, [(2, 7, 14, 1), (1, 2**64 - 1, 5, 2)]), 0),
}
for name, (b, key) in seeds.items():
    with open("%s/%s-wire" % (sys.argv[1], name), "wb") as f:
        f.write(b"\0" + sealed(b, key))
    with open("%s/%s-unsealed" % (sys.argv[1], name), "wb") as f:
        f.write(bytes([1 | (key << 1)]) + b)
PY

cat >"$tmp/fuzz_gossip.dict" <<'EOF'
magic="FTGS"
header="FTGS\x02\x00"
key0="\x01\x01\x01\x01\x01\x01\x01\x01"
key1="\x02\x02\x02\x02\x02\x02\x02\x02"
id_max="\x00\x00\xff\xff"
id_over="\x00\x01\x00\x00"
inc_max="\xff\xff\xff\xff\xff\xff\xff\xff"
EOF

# A mode byte, the 60-byte overhead + 256 entries of 21 bytes, and a little beyond.
fuzz fuzz_gossip "gossip datagrams" "$tmp/corpus" 5600

# --- internal frames and the "job" object ---

# shellcheck disable=SC2046 # pkg-config's flags are several words
build fuzz_frame src/lib/frame.c src/job/jobspec.c src/lib/util.c \
	$(pkg-config --cflags --libs json-c)

mkdir "$tmp/frames"
python3 - "$tmp/frames" <<'PY'
import json, struct, sys
def frame(t, meta, blob=b""):
    m = json.dumps(meta).encode()
    return b"FT" + bytes([1, t]) + struct.pack(">II", len(m), len(blob)) + m + blob
a = b"public class Main { public String run(String[] a) { return Util.x(); } }"
b = b'class Util { static String x() { return "u"; } }'
seeds = {
    "assign-files": frame(5, {"req": 7, "epoch": 3, "job": {
        "files": [{"name": "Main.java", "bytes": len(a)}, {"name": "Util.java", "bytes": len(b)}],
        "stdin": "x\n", "args": ["1", "2"], "limits": {"time_ms": 1000, "memory_mb": 64},
        "capture": True}}, a + b),
    "submit-single": frame(2, {"req": 1, "job": {"capture": True, "stdin": ""}}, a),
    "plain": frame(2, {"req": 2}, a),
    "result": frame(3, {"req": 2, "verdict": "ok", "stdout_bytes": 1, "stderr_bytes": 0}, b"ab"),
}
for name, data in seeds.items():
    with open("%s/%s" % (sys.argv[1], name), "wb") as f:
        f.write(data)
PY
cat >"$tmp/fuzz_frame.dict" <<'DICT'
magic="FT\x01"
job="\"job\""
files="\"files\""
name="\"name\""
bytes="\"bytes\""
stdin="\"stdin\""
args="\"args\""
limits="\"limits\""
capture="\"capture\""
java="\".java\""
DICT

fuzz fuzz_frame "internal frames" "$tmp/frames" 4096

# --- the warm compiler's answers ---

build fuzz_warmproto src/runner/warmproto.c src/runner/compiled.c src/lib/util.c

mkdir "$tmp/answers"
python3 - "$tmp/answers" <<'PY'
import struct, sys
def u32(n):
    return struct.pack(">I", n)
def classes(*pairs):
    out = b"O" + u32(len(pairs))
    for name, data in pairs:
        out += u32(len(name)) + name + u32(len(data)) + data
    return out
def errors(body):
    return b"C" + u32(len(body)) + body
seeds = {
    "classes": classes((b"p.Main", b"\xca\xfe\xba\xbe\x00\x00\x00\x3d"),
                       (b"p.Main$Inner", b"\xca\xfe\xba\xbe")),
    "no-classes": classes(),
    "errors": errors(b"Code did not compile:\nError on line 3, column 5 in Main.java: x"),
    "oom": b"M",
    "cut-short": classes((b"A", b"0123456789"))[:-3],
    "two-answers": errors(b"Code did not compile:\n") + b"M",
}
for name, data in seeds.items():
    with open("%s/%s" % (sys.argv[1], name), "wb") as f:
        f.write(data)
PY
cat >"$tmp/fuzz_warmproto.dict" <<'DICT'
classes="O"
errors="C"
oom="M"
head="Code did not compile:"
zero="\x00\x00\x00\x00"
one="\x00\x00\x00\x01"
max_classes="\x00\x01\x00\x00"
name_max="\x00\x00\x08\x00"
name_over="\x00\x00\x08\x01"
huge="\xff\xff\xff\xff"
DICT

fuzz fuzz_warmproto "warm compiler answers" "$tmp/answers" 4096

# --- the cluster key handshake and sealed records ---

# shellcheck disable=SC2046 # pkg-config's flags are several words
build fuzz_seal src/lib/seal.c src/lib/keyring.c src/lib/secretfile.c src/lib/frame.c \
	src/lib/util.c $(pkg-config --cflags --libs libsodium json-c)

mkdir "$tmp/sealed"
python3 - "$tmp/sealed" <<'PY'
import hashlib, struct, sys
kid = hashlib.blake2b(b"ftcluster key id v1", digest_size=16, key=b"\x5a" * 32).digest()[:8]
hello1 = b"FTS\x01" + kid + bytes(range(32))
meta = b'{"role":"gateway","id":0}'
frame = b"FT\x01\x01" + struct.pack(">II", len(meta), 0) + meta
seeds = {
    "hello1": b"\x00\x07" + hello1,
    "hello1-and-mac": b"\x00\x2c" + hello1 + bytes(32),
    "old-peer": b"\x00\x01" + frame,
    "record": b"\x01" + struct.pack(">I", 16 + 5) + bytes(21),
    "huge-record": b"\x01\xff\xff\xff\xff",
    "frames": b"\x02" + frame + frame,
}
for name, data in seeds.items():
    with open("%s/%s" % (sys.argv[1], name), "wb") as f:
        f.write(data)
PY
cat >"$tmp/fuzz_seal.dict" <<'DICT'
magic="FTS\x01"
frame="FT\x01"
tag_only="\x00\x00\x00\x10"
max_record="\x00\x01\x00\x10"
DICT

fuzz fuzz_seal "the cluster key handshake and sealed records" "$tmp/sealed" 8192
status=0
