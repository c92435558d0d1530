"""Hostile programs through the gateway: each gets its verdict, and the
worker keeps serving.

A 2-node cluster: node 2 leads, node 1 is the only worker, so every program
here runs on the same worker process, and after each one a normal request
must still be answered (by that same process: its pid never changes).

Small limits keep the whole module short: 5 s wall and 3 s CPU per run,
256 MiB of memory, 64 processes/threads, 4 MiB per file, 1 MiB of output,
200 open files per process.

The node's own resources are watched too: its disk (a program's output
goes through pipes, its files to a /tmp of bounded size and inode count in
memory), its memory and descriptors, the host's ptys, and what of the node
a program can see in /proc.

At the end the worker must have left nothing behind: no process below it,
no job directory, no job cgroup.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

import ftharness

WALL_MS = 5000
CPU_MS = 3000
MEMORY = 256 << 20
MAX_PROCESSES = 64
MAX_FILE = 4 << 20
MAX_OUTPUT = 1 << 20
MAX_OPEN_FILES = 200
# The sandbox's /tmp (src/runner/sandbox.h, launch.c): twice the file
# limit, at most this many inodes.
TMP_BYTES = 2 * MAX_FILE
TMP_INODES = 4096
# In the node's environment: no sandbox may see it.
CANARY = "ftcanary-%s" % uuid.uuid4().hex

FT_CLUSTER_OPTIONS = {
    "nodes": 2,
    "limits": {
        "run_wall_ms": WALL_MS,
        "run_cpu_ms": CPU_MS,
        "compile_wall_ms": 30000,
        "run_memory_bytes": MEMORY,
        "run_max_processes": MAX_PROCESSES,
        "run_max_file_bytes": MAX_FILE,
        "max_output_bytes": MAX_OUTPUT,
        "run_max_open_files": MAX_OPEN_FILES,
        # The 100 000-line source is about 1.3 MB.
        "max_body_bytes": 4 << 20,
        "max_frame_bytes": 8 << 20,
    },
    "env": {"FT_TEST_SECRET": CANARY},
}

WORKER = 1
LEADER = 2
POST_TIMEOUT = 120.0


def nonce() -> str:
    """Makes every source unique: the gateway's cache must not answer."""
    return "// %s\n" % uuid.uuid4().hex


def verdict(r: ftharness.Response) -> str:
    return (r.headers.get("X-Verdict") or "").strip()


def describe(r: ftharness.Response) -> str:
    return "HTTP %d, X-Verdict %r, X-Exit-Code %r, body %r" % (
        r.status, verdict(r), r.headers.get("X-Exit-Code"), r.body[:600])


@pytest.fixture(scope="module")
def worker_pid(cluster):
    info = cluster.wait_leader(timeout=60)
    assert info["leader"] == LEADER, info
    return cluster.pid(WORKER)


def hello(cluster) -> None:
    """A normal program is answered, by the same worker process."""
    src = nonce() + (
        "public class Hello {\n"
        "    public String run() { return \"still serving\"; }\n"
        "}\n")
    r = cluster.post(src, timeout=POST_TIMEOUT)
    assert r.status == 200 and verdict(r) == "ok" and r.body == "still serving", describe(r)


def run_hostile(cluster, worker_pid, source, want, status=400, exit_code=None, body=()):
    """Send one program; check its verdict (one of want), status, exit code
    and body fragments; then that the same worker answers a normal one."""
    if isinstance(want, str):
        want = (want,)
    data = source if isinstance(source, bytes) else (nonce() + source).encode()
    t0 = time.monotonic()
    r = cluster.post(data, timeout=POST_TIMEOUT)
    took = time.monotonic() - t0
    assert verdict(r) in want, describe(r)
    if status is not None:
        assert r.status == status, describe(r)
    if exit_code is not None:
        assert r.headers.get("X-Exit-Code") == str(exit_code), describe(r)
    for fragment in body:
        assert fragment in r.body, describe(r)
    # The program's own output never poses as a limit, and limits are
    # never reported as if the program had answered.
    assert not r.body.startswith("Internal error"), describe(r)
    hello(cluster)
    assert cluster.pid(WORKER) == worker_pid, "the worker was restarted"
    assert cluster.running(WORKER)
    return r, took


# ---------------------------------------------------------------- time


def test_infinite_loop(cluster, worker_pid):
    src = "public class Spin { public String run() { long x = 0; while (true) x++; } }\n"
    r, took = run_hostile(cluster, worker_pid, src, "time_limit",
                          body=("Time limit exceeded",))
    assert r.headers.get("X-Exit-Code") == "-1"
    assert took < 60


def test_sleep_forever(cluster, worker_pid):
    src = ("public class Nap { public String run() throws Exception {"
           " Thread.sleep(Long.MAX_VALUE); return \"woke\"; } }\n")
    run_hostile(cluster, worker_pid, src, "time_limit",
                body=("Time limit exceeded", "%d ms" % WALL_MS))


def test_cpu_burning_threads(cluster, worker_pid):
    # Three busy threads on two cores reach the CPU limit (3 s) before the
    # wall limit (5 s) -- unless the machine is too busy to give them the
    # CPU, then the wall clock ends it: a time limit either way.
    src = ("public class Burn { public String run() {"
           " for (int i = 0; i < 2; i++) new Thread(() -> { long x = 0; while (true) x++; }).start();"
           " long x = 0; while (true) x++; } }\n")
    run_hostile(cluster, worker_pid, src, "time_limit", body=("Time limit exceeded",))


# ---------------------------------------------------------------- memory


def test_allocate_until_oom(cluster, worker_pid):
    src = ("import java.util.*;\n"
           "public class Hog { public String run() {"
           " List<long[]> l = new ArrayList<>(); while (true) l.add(new long[1 << 17]); } }\n")
    run_hostile(cluster, worker_pid, src, "memory_limit", body=("Memory limit exceeded",))


def test_native_memory_hog(cluster, worker_pid):
    # Outside the Java heap: only the cgroup (or RLIMIT_AS) stops it.
    src = ("import java.lang.reflect.Field;\n"
           "public class NativeHog { public String run() throws Exception {"
           " Field f = Class.forName(\"sun.misc.Unsafe\").getDeclaredField(\"theUnsafe\");"
           " f.setAccessible(true); sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);"
           " while (true) { long a = u.allocateMemory(1 << 20); u.setMemory(a, 1 << 20, (byte) 1); } } }\n")
    run_hostile(cluster, worker_pid, src, "memory_limit", body=("Memory limit exceeded",))


def test_native_memory_exhausted_inside_the_vm(cluster, worker_pid):
    # Takes every byte of native memory it can, then makes the JVM itself
    # allocate: without a cgroup HotSpot dies of it (exit 1, its banner on
    # stdout), which is still the memory limit, not a runtime error.
    src = ("import java.lang.reflect.Field;\n"
           "public class NativeSqueeze { public String run() throws Exception {"
           " Field f = Class.forName(\"sun.misc.Unsafe\").getDeclaredField(\"theUnsafe\");"
           " f.setAccessible(true); sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);"
           " long sz = 1 << 20; while (sz > 0) { try { long a = u.allocateMemory(sz);"
           " u.setMemory(a, sz, (byte) 1); } catch (OutOfMemoryError e) { sz /= 2; } }"
           " for (int i = 0; i < 100000; i++) { Class.forName(\"java.util.concurrent.ConcurrentSkipListMap\");"
           " java.lang.invoke.MethodHandles.lookup(); new StringBuilder().append(i).toString(); }"
           " return \"survived\"; } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, "memory_limit", body=("Memory limit exceeded",))
    # By cgroup the OOM killer acts first; by RLIMIT_AS the VM gives up.
    assert "native memory" in r.body or "was killed" in r.body, describe(r)


# ---------------------------------------------------------------- processes


def test_fork_bomb(cluster, worker_pid):
    src = ("import java.util.*;\n"
           "public class ForkBomb { public String run() throws Exception {"
           " List<Process> ps = new ArrayList<>();"
           " while (true) ps.add(new ProcessBuilder(\"/bin/sh\", \"-c\", \"sleep 1000\").start()); } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, ("runtime_error", "memory_limit"))
    if verdict(r) == "runtime_error":
        assert "Resource temporarily unavailable" in r.body or "Process limit" in r.body, \
            describe(r)


def test_fork_bomb_that_swallows_errors(cluster, worker_pid):
    # Keeps trying after every refusal: only time ends it, and every process
    # it started must go with it (checked at the end of the module).
    src = ("public class ForkForever { public String run() {"
           " while (true) { try { new ProcessBuilder(\"/bin/sleep\", \"1000\").start(); }"
           " catch (Throwable t) { } } } }\n")
    run_hostile(cluster, worker_pid, src, ("time_limit", "memory_limit"))


def test_thread_bomb(cluster, worker_pid):
    src = ("public class ThreadBomb { public String run() { while (true) {"
           " new Thread(() -> { try { Thread.sleep(Long.MAX_VALUE); }"
           " catch (InterruptedException e) { } }).start(); } } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, ("runtime_error", "memory_limit"))
    if verdict(r) == "runtime_error":
        assert "Process limit exceeded" in r.body, describe(r)
        assert "unable to create native thread" in r.body, describe(r)


# ---------------------------------------------------------------- isolation


def test_no_network(cluster, worker_pid):
    host, port = cluster.gw_http.rsplit(":", 1)
    targets = [(host, int(port)), (host, int(cluster.nodes[WORKER].work.rsplit(":", 1)[1])),
               ("1.1.1.1", 80), ("10.0.0.1", 22)]
    checks = "".join(
        " sb.append(tryConnect(\"%s\", %d));" % (h, p) for h, p in targets)
    src = ("import java.net.*;\n"
           "public class Net {\n"
           " static String tryConnect(String h, int p) {"
           "  try (Socket s = new Socket()) { s.connect(new InetSocketAddress(h, p), 1000);"
           "   return \"CONNECTED \" + h + \":\" + p + \"\\n\"; }"
           "  catch (Throwable t) { return \"denied \" + h + \":\" + p + \" \" + t + \"\\n\"; } }\n"
           " public String run() throws Exception { StringBuilder sb = new StringBuilder();"
           + checks +
           "  sb.append(java.util.Collections.list(NetworkInterface.getNetworkInterfaces()));"
           "  return sb.toString(); } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, "ok", status=200)
    assert "CONNECTED" not in r.body, r.body
    assert r.body.count("denied") == len(targets), r.body
    assert "name:lo" in r.body and "eth" not in r.body, r.body


def test_no_secrets(cluster, worker_pid):
    jobs = cluster.state_dir / ("node-%d" % WORKER) / "jobs"
    paths = ["/etc/shadow", "/etc/passwd", str(cluster.config_path), str(cluster.state_dir),
             str(jobs), str(cluster.log_dir), "/root", "/proc/1/environ", "/sys/fs/cgroup"]

    # Another run is going on in a directory of its own meanwhile.
    other = nonce() + ("public class Other { public String run() throws Exception {"
                       " Thread.sleep(4000); return \"other done\"; } }\n")
    other_result = {}
    t = threading.Thread(target=lambda: other_result.setdefault(
        "r", cluster.post(other, timeout=POST_TIMEOUT)))
    t.start()
    try:
        time.sleep(1.5)  # the other run has its directory now
        other_dirs = [p.name for p in jobs.iterdir()] if jobs.is_dir() else []
        probes = "".join(" sb.append(probe(\"%s\"));" % p for p in paths)
        probes += "".join(" sb.append(probe(\"%s\"));" % str(jobs / d) for d in other_dirs)
        src = ("import java.io.*; import java.nio.file.*;\n"
               "public class Snoop {\n"
               " static String probe(String p) { try { Path q = Paths.get(p);"
               "  if (Files.isDirectory(q)) { String[] l = new File(p).list();"
               "   return \"READ \" + p + \" \" + java.util.Arrays.toString(l) + \"\\n\"; }"
               "  return \"READ \" + p + \" \" + Files.readAllBytes(q).length + \" bytes\\n\"; }"
               "  catch (Throwable t) { return \"denied \" + p + \" \" + t + \"\\n\"; } }\n"
               " public String run() { StringBuilder sb = new StringBuilder();" + probes +
               "  sb.append(\"root \" + java.util.Arrays.toString(new File(\"/\").list()));"
               "  return sb.toString(); } }\n")
        r, _ = run_hostile(cluster, worker_pid, src, "ok", status=200)
    finally:
        t.join(POST_TIMEOUT)
    for line in r.body.splitlines():
        if line.startswith("READ "):
            # /proc and /sys are the sandbox's own (if visible at all).
            assert line.split()[1].startswith(("/proc", "/sys")), r.body
        if line.startswith("root "):
            assert "job-" not in line and "state" not in line, line
    assert "READ /etc/shadow" not in r.body and "READ %s" % cluster.config_path not in r.body
    assert "r" in other_result and other_result["r"].body == "other done", other_result


def test_sandbox_identity(cluster, worker_pid):
    src = ("import java.nio.file.*;\n"
           "public class Who { public String run() throws Exception { StringBuilder sb = new StringBuilder();"
           " for (String l : Files.readAllLines(Paths.get(\"/proc/self/status\")))"
           "  if (l.matches(\"^(Uid|Gid|NoNewPrivs|Seccomp|CapEff):.*\")) sb.append(l.replaceAll(\"\\\\s+\", \" \")).append('\\n');"
           " sb.append(\"pids \" + new java.io.File(\"/proc\").list((d, n) -> n.matches(\"\\\\d+\")).length);"
           " return sb.toString(); } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, "ok", status=200)
    # A sandbox user of its own (sandbox.uid_first.., default 300000 + 64),
    # real, effective, saved and file ids alike; its group the same number.
    uid = re.search(r"^Uid: (\d+) \1 \1 \1$", r.body, re.M)
    assert uid and 300000 <= int(uid.group(1)) < 300064, r.body
    assert "Gid: %s %s %s %s" % ((uid.group(1),) * 4) in r.body, r.body
    assert "NoNewPrivs: 1" in r.body, r.body
    assert "Seccomp: 2" in r.body, r.body
    assert "CapEff: 0000000000000000" in r.body, r.body
    # Its own PID namespace, the JVM as its PID 1: nothing of the node.
    assert int(r.body.rsplit("pids ", 1)[1]) <= 3, r.body


def test_concurrent_sandboxes_have_uids_of_their_own(cluster, worker_pid):
    """RLIMIT_NPROC counts per uid on the whole host: sandboxes running at
    once must never share one, or one run's threads starve another's."""
    barrier = threading.Barrier(2)
    got = []

    def one(i):
        src = ("public class Uid%d { public String run() throws Exception {"
               " Thread.sleep(1500);"
               " for (String l : java.nio.file.Files.readAllLines(java.nio.file.Paths.get(\"/proc/self/status\")))"
               "  if (l.startsWith(\"Uid:\")) return l.split(\"\\\\s+\")[1];"
               " return \"?\"; } }\n" % i)
        barrier.wait(timeout=30)
        got.append(cluster.post(nonce() + src, timeout=POST_TIMEOUT))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=POST_TIMEOUT)
    assert len(got) == 2 and all(r.status == 200 for r in got), [describe(r) for r in got]
    uids = {r.body for r in got}
    assert len(uids) == 2 and all(300000 <= int(u) < 300064 for u in uids), uids


def test_refused_system_calls(cluster, worker_pid):
    src = ("public class Calls { public String run() throws Exception {"
           " Process p = new ProcessBuilder(\"/bin/sh\", \"-c\","
           "  \"unshare -U true; echo unshare=$?; unshare -n true; echo unsharenet=$?\").redirectErrorStream(true).start();"
           " return new String(p.getInputStream().readAllBytes()); } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, "ok", status=200)
    assert "unshare=1" in r.body and "unsharenet=1" in r.body, r.body


def test_proc_shows_nothing_of_the_node(cluster, worker_pid):
    """/proc is the sandbox's own: no process of the node or of another
    sandbox, no secret in the environment, no host path of the cluster's
    secrets or of other jobs, not even in the mount table."""
    jobs = cluster.state_dir / ("node-%d" % WORKER) / "jobs"
    secret = cluster.zk_auth_file.read_text().strip().split(":", 1)[1]
    other = nonce() + ("public class OtherJob { public String run() throws Exception {"
                       " Thread.sleep(4000); return \"other done\"; } }\n")
    t, out = _post_in_background(cluster, other)
    try:
        time.sleep(1.5)  # the other run has its directory and its JVM now
        other_dirs = [p.name for p in jobs.iterdir() if p.name.startswith("job-")] \
            if jobs.is_dir() else []
        # The node's daemons, the test itself, and every process of the
        # worker's other sandboxes (warm JVMs, the other run), as the host
        # numbers them.
        host_pids = sorted({d.pid for d in cluster.procs.values() if d.pid}
                           | {os.getpid()} | set(_descendants(worker_pid)))
        paths = [str(cluster.zk_auth_file), str(cluster.config_path), str(cluster.dir),
                 "/etc/ftcluster", str(cluster.state_dir), str(jobs)]
        paths += [str(jobs / d) for d in other_dirs]
        src = ("import java.io.*; import java.nio.file.*; import java.util.*;\n"
               "public class ProcView {\n"
               " static String read(String p) { try { return new String(Files.readAllBytes(Paths.get(p)),"
               "  java.nio.charset.StandardCharsets.UTF_8); } catch (Throwable t) { return null; } }\n"
               " public String run() throws Exception { StringBuilder sb = new StringBuilder();"
               "  for (String p : new File(\"/proc\").list()) if (p.matches(\"\\\\d+\")) {"
               "   String c = read(\"/proc/\" + p + \"/cmdline\");"
               "   sb.append(\"pid \" + p + \" \" + (c == null ? \"?\" : c.replace('\\0', ' ')) + \"\\n\"); }"
               "  for (String p : new String[] { \"/proc/self/environ\", \"/proc/1/environ\" }) {"
               "   String e = read(p); sb.append(\"environ \" + p + \" \" + (e == null ? \"?\" : e.replace('\\0', ' ')) + \"\\n\"); }"
               "  for (int pid : new int[] { %s }) for (String f : new String[] { \"cmdline\", \"environ\", \"status\" }) {"
               "   String e = read(\"/proc/\" + pid + \"/\" + f); if (e != null) sb.append(\"READ /proc/\" + pid + \"/\" + f + \"\\n\"); }"
               "  for (String p : new String[] { %s }) { File f = new File(p);"
               "   if (f.exists() || read(p) != null) sb.append(\"SEEN \" + p + \"\\n\"); }"
               "  sb.append(\"mountinfo\\n\" + read(\"/proc/self/mountinfo\"));"
               "  return sb.toString(); } }\n"
               % (", ".join(str(p) for p in host_pids), ", ".join('"%s"' % p for p in paths)))
        r, _ = run_hostile(cluster, worker_pid, src, "ok", status=200)
    finally:
        t.join(POST_TIMEOUT)
    body = r.body
    # Its own PID namespace: the JVM as PID 1, perhaps one more of its own.
    pids = re.findall(r"^pid (\d+) (.*)$", body, re.M)
    assert 1 <= len(pids) <= 3 and ("1" in [p for p, _ in pids]), body
    assert all("java" in cmd for _, cmd in pids), body
    assert "READ /proc/" not in body, body
    assert "SEEN " not in body, body
    # The environment every child gets (and bwrap's PWD), nothing of the
    # node's.
    for env in re.findall(r"^environ \S+ (.*)$", body, re.M):
        names = {kv.split("=", 1)[0] for kv in env.split()}
        assert names <= {"PATH", "LANG", "MALLOC_ARENA_MAX", "PWD"}, env
        assert "PWD=/job" in env.split() or "PWD" not in names, env
    assert CANARY not in body and "FT_TEST_SECRET" not in body, body
    assert secret not in body, "the ZooKeeper password leaked"
    # The mount table names only the sandbox's own: the job directory's
    # host path appears for /job alone, nothing of the cluster's files or
    # of the other jobs.
    mounts = body.split("mountinfo\n", 1)[1]
    for line in mounts.splitlines():
        fields = line.split()
        if str(cluster.state_dir) in line:
            assert fields[4] == "/job", line
    for p in [str(cluster.zk_auth_file), str(cluster.config_path), "/etc/ftcluster"] + \
            other_dirs:
        assert p not in mounts, (p, mounts)
    assert "r" in out and out["r"].body == "other done", out


# ---------------------------------------------------------------- output


def test_huge_file(cluster, worker_pid):
    src = ("import java.io.*;\n"
           "public class Disk { public String run() throws Exception {"
           " File f = File.createTempFile(\"huge\", \".bin\"); byte[] b = new byte[1 << 20];"
           " try (FileOutputStream o = new FileOutputStream(f)) { while (true) o.write(b); } } }\n")
    run_hostile(cluster, worker_pid, src, "output_limit", body=("Output limit exceeded",))


def test_fallocate_on_its_own_output(cluster, worker_pid):
    # Blocks reserved beyond a file's size (FALLOC_FL_KEEP_SIZE) would
    # escape the file-size limit and the output poll: 3 GiB of the node's
    # disk under a 1 MiB output limit.  fallocate(1, KEEP_SIZE, 0, 3 GiB)
    # on its inherited stdout, through perl's syscall() (x86-64: 285).
    if os.uname().machine != "x86_64" or not os.path.exists("/usr/bin/perl"):
        pytest.skip("needs x86-64's syscall number and perl (Debian's perl-base)")
    src = ("public class Reserve { public String run() throws Exception {"
           " Process p = new ProcessBuilder(\"perl\", \"-e\","
           " \"syscall(285, 1, 1, 0, 3 << 30) == 0 ? print STDERR 'reserved' : print STDERR $!\")"
           ".redirectOutput(ProcessBuilder.Redirect.INHERIT).start();"
           " p.waitFor(); return new String(p.getErrorStream().readAllBytes()); } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, "ok", status=200)
    assert r.body == "Operation not supported", describe(r)


def test_huge_file_in_job_directory(cluster, worker_pid):
    # The job directory is read-only to the program.
    src = ("import java.io.*;\n"
           "public class Cwd { public String run() throws Exception {"
           " try (FileOutputStream o = new FileOutputStream(\"big.bin\")) { o.write(1); }"
           " return \"wrote\"; } }\n")
    run_hostile(cluster, worker_pid, src, "runtime_error", body=("Read-only file system",))


def test_print_a_gigabyte(cluster, worker_pid):
    src = ("public class Flood { public String run() {"
           " byte[] b = new byte[1 << 16]; java.util.Arrays.fill(b, (byte) 'x');"
           " for (int i = 0; i < (1 << 14); i++) System.out.write(b, 0, b.length);"
           " return \"printed\"; } }\n")
    r, took = run_hostile(cluster, worker_pid, src, "output_limit",
                          body=("Output limit exceeded", "standard output"))
    assert "xxxx" not in r.body


def test_huge_answer(cluster, worker_pid):
    src = ("public class Big { public String run() { return \"y\".repeat(%d); } }\n"
           % (MAX_OUTPUT + 10))
    r, _ = run_hostile(cluster, worker_pid, src, "output_limit",
                       body=("Output limit exceeded", "answer"))
    assert "yyyy" not in r.body


# ---------------------------------------------------------------- the node's resources


def _post_in_background(cluster, source):
    """Sends one program from a thread; returns (thread, result dict)."""
    out = {}

    def send():
        try:
            out["r"] = cluster.post((nonce() + source).encode(), timeout=POST_TIMEOUT)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out["e"] = e

    t = threading.Thread(target=send)
    t.start()
    return t, out


def _sample_while(thread, sample, interval=0.05):
    """Calls sample() until thread ends; returns every value."""
    values = []
    while thread.is_alive():
        values.append(sample())
        thread.join(interval)
    values.append(sample())
    return values


def _bytes_below(top: Path) -> int:
    """Disk blocks (in bytes) of every file below top, as they are now."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames + dirnames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                continue  # removed meanwhile
    return total


def _finished(thread, out):
    thread.join(POST_TIMEOUT)
    assert "r" in out, out.get("e")
    return out["r"]


def test_writes_and_files_take_nothing_of_the_nodes_disk(cluster, worker_pid):
    """Output at the limit on stdout and stderr, files in /tmp until it is
    full (in count, then in bytes), writes everywhere else: the node's disk
    (its state directory's file system, the job directories) does not
    grow, and /tmp is bounded by its size and inode count."""
    jobs = cluster.state_dir / ("node-%d" % WORKER) / "jobs"
    src = ("import java.io.*; import java.util.*;\n"
           "public class Filler { public String run() throws Exception {"
           " StringBuilder sb = new StringBuilder();"
           " byte[] line = new byte[1000]; Arrays.fill(line, (byte) 'o');"
           " for (int i = 0; i < %d; i++) { System.out.write(line); System.err.write(line); }"
           " System.out.flush(); System.err.flush();"
           " int files = 0; String why = \"none\";"
           " try { for (; files < 100000; files++) new FileOutputStream(\"/tmp/f\" + files).close(); }"
           " catch (IOException e) { why = e.getMessage(); }"
           " sb.append(\"files \" + files + \" \" + why + \"\\n\");"
           " for (int i = 0; i < 16; i++) new File(\"/tmp/f\" + i).delete();"
           " long bytes = 0; byte[] mb = new byte[1 << 20];"
           " for (int k = 0; k < 16; k++) { try (FileOutputStream o = new FileOutputStream(\"/tmp/big\" + k)) {"
           "  for (int i = 0; i < 64; i++) { o.write(mb); bytes += mb.length; } }"
           "  catch (IOException e) { sb.append(\"big\" + k + \" \" + e.getMessage() + \"\\n\"); } }"
           " sb.append(\"bytes \" + bytes + \"\\n\");"
           " for (String p : new String[] { \"/job/x\", \"/x\", \"/dev/x\", \"/dev/shm/x\", \"/usr/x\", \"/ft/x\" }) {"
           "  try (FileOutputStream o = new FileOutputStream(p)) { o.write(1); sb.append(\"WROTE \" + p + \"\\n\"); }"
           "  catch (IOException e) { sb.append(\"denied \" + p + \"\\n\"); } }"
           " Process df = new ProcessBuilder(\"df\", \"-B1\", \"--output=size,itotal\", \"/tmp\")"
           "  .redirectErrorStream(true).start();"
           " sb.append(\"df \" + new String(df.getInputStream().readAllBytes()).trim().replaceAll(\"\\\\s+\", \" \") + \"\\n\");"
           " Thread.sleep(1500);"
           " return sb.toString(); } }\n" % (MAX_OUTPUT // 1000))
    before = os.statvfs(cluster.state_dir)
    t, out = _post_in_background(cluster, src)
    samples = _sample_while(t, lambda: (os.statvfs(cluster.state_dir), _bytes_below(jobs)))
    r = _finished(t, out)
    assert r.status == 200 and verdict(r) == "ok", describe(r)
    body = r.body
    # /tmp: its inode count ends the files, its size the bytes; a file
    # stops at the file limit.
    m = re.search(r"^files (\d+) (.*)$", body, re.M)
    assert m and TMP_INODES - 16 <= int(m.group(1)) < TMP_INODES, body
    assert "No space left on device" in m.group(2), body
    assert "big0 File too large" in body, body
    assert "No space left on device" in body.split("files", 1)[1].split("bytes")[0], body
    written = int(re.search(r"^bytes (\d+)$", body, re.M).group(1))
    assert MAX_FILE <= written <= TMP_BYTES, body
    df = re.search(r"^df .*?(\d+) (\d+)$", body, re.M)
    assert df and int(df.group(1)) == TMP_BYTES and int(df.group(2)) == TMP_INODES, body
    assert "WROTE" not in body, body
    # The node's disk: the job directories hold sources and classes only
    # (the 2 MB of output went through pipes), and the file system of the
    # state directory lost nothing to the 100 000 files and 1 GiB tried
    # (bounds generous for other users of the machine).
    most_in_jobs = max(b for _, b in samples)
    assert most_in_jobs < 512 << 10, "job directories held %d bytes" % most_in_jobs
    least_free = min(v.f_bavail * v.f_frsize for v, _ in samples)
    least_inodes = min(v.f_favail for v, _ in samples)
    assert before.f_bavail * before.f_frsize - least_free < 64 << 20, (before, least_free)
    assert before.f_favail - least_inodes < 2000, (before.f_favail, least_inodes)
    hello(cluster)
    assert cluster.pid(WORKER) == worker_pid


def _status_kib(pid: int, field: str) -> int:
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def test_flooding_every_stream_costs_the_node_only_the_output_limit(cluster, worker_pid):
    """stdout, stderr and the answer all at once, without end: the worker
    keeps at most the output limit of each in memory and stops the run."""
    src = ("public class FloodAll { public String run() {"
           " byte[] b = new byte[1 << 16]; java.util.Arrays.fill(b, (byte) 'x');"
           " new Thread(() -> { while (true) System.err.write(b, 0, b.length); }).start();"
           " new Thread(() -> { while (true) System.out.write(b, 0, b.length); }).start();"
           " return \"y\".repeat(64 << 20); } }\n")
    hwm = _status_kib(worker_pid, "VmHWM")
    r, _ = run_hostile(cluster, worker_pid, src, "output_limit", body=("Output limit exceeded",))
    grew = (_status_kib(worker_pid, "VmHWM") - hwm) << 10
    assert grew < 3 * MAX_OUTPUT + (16 << 20), "the worker's peak memory grew by %d bytes" % grew
    assert "xxxx" not in r.body and "yyyy" not in r.body, describe(r)


def _fd_count(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def test_open_files_in_a_loop(cluster, worker_pid):
    """limits.run_max_open_files: opening stops with EMFILE, for the
    program and its children; the node's descriptors are its own."""
    node_fds = _fd_count(worker_pid)
    src = ("import java.io.*; import java.util.*;\n"
           "public class Opener { public String run() throws Exception {"
           " List<FileInputStream> l = new ArrayList<>(); String why = \"none\";"
           " try { while (l.size() < 100000) l.add(new FileInputStream(\"/proc/self/status\")); }"
           " catch (IOException e) { why = e.getMessage(); }"
           " int n = l.size(); for (FileInputStream f : l) f.close();"
           " Process p = new ProcessBuilder(\"/bin/sh\", \"-c\", \"ulimit -n\").start();"
           " return n + \" \" + why + \" \" + new String(p.getInputStream().readAllBytes()).trim(); } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, "ok", status=200)
    m = re.match(r"^(\d+) (.*) (\d+)$", r.body)
    assert m, describe(r)
    # The JVM holds about 10 itself.
    assert MAX_OPEN_FILES - 24 <= int(m.group(1)) < MAX_OPEN_FILES, describe(r)
    assert "Too many open files" in m.group(2), describe(r)
    assert int(m.group(3)) == MAX_OPEN_FILES, describe(r)

    # Not caught: the program's error, and the node is none the worse.
    src = ("import java.io.*; import java.util.*;\n"
           "public class Hoarder { public String run() throws Exception {"
           " List<FileInputStream> l = new ArrayList<>();"
           " while (true) l.add(new FileInputStream(\"/proc/self/status\")); } }\n")
    run_hostile(cluster, worker_pid, src, "runtime_error", body=("Too many open files",))
    assert abs(_fd_count(worker_pid) - node_fds) < 16, (node_fds, _fd_count(worker_pid))


def _ptys_in_use() -> int:
    return int(Path("/proc/sys/kernel/pty/nr").read_text())


def test_no_ptys_from_the_hosts_pool(cluster, worker_pid):
    """Every pty of any devpts instance counts against the host's
    kernel.pty.max: a sandbox has none to open."""
    src = ("import java.io.*; import java.util.*;\n"
           "public class Ptys { public String run() throws Exception {"
           " StringBuilder sb = new StringBuilder(); List<RandomAccessFile> l = new ArrayList<>();"
           " for (String p : new String[] { \"/dev/ptmx\", \"/dev/pts/ptmx\" }) { String why = \"none\";"
           "  try { for (int i = 0; i < 300; i++) l.add(new RandomAccessFile(p, \"rw\")); }"
           "  catch (IOException e) { why = e.getMessage(); }"
           "  sb.append(p + \" \" + l.size() + \" \" + why + \"\\n\"); }"
           " String[] dev = new File(\"/dev\").list(); Arrays.sort(dev);"
           " sb.append(\"dev \" + String.join(\" \", dev) + \"\\n\");"
           " Thread.sleep(1500);"
           " return sb.toString(); } }\n")
    before = _ptys_in_use()
    t, out = _post_in_background(cluster, src)
    most = max(_sample_while(t, _ptys_in_use))
    r = _finished(t, out)
    assert r.status == 200 and verdict(r) == "ok", describe(r)
    assert "/dev/ptmx 0 " in r.body and "/dev/pts/ptmx 0 " in r.body, describe(r)
    dev = re.search(r"^dev (.*)$", r.body, re.M).group(1).split()
    assert "ptmx" not in dev and "pts" not in dev, dev
    assert {"null", "zero", "urandom", "random"} <= set(dev), dev
    # Others on the machine may open a few meanwhile; the program tried 600.
    assert most - before < 20, (before, most)
    hello(cluster)


# ---------------------------------------------------------------- exits


def test_system_exit(cluster, worker_pid):
    src = "public class Quit { public String run() { System.exit(3); return \"no\"; } }\n"
    run_hostile(cluster, worker_pid, src, "runtime_error", exit_code=3,
                body=("exited with status 3",))


def test_runtime_halt(cluster, worker_pid):
    src = ("public class Halt { public String run() {"
           " Runtime.getRuntime().halt(5); return \"no\"; } }\n")
    run_hostile(cluster, worker_pid, src, "runtime_error", exit_code=5,
                body=("exited with status 5",))


# ---------------------------------------------------------------- sources


def test_never_compiles(cluster, worker_pid):
    src = "public class Broken { public String run() { return 42 } }\n"
    run_hostile(cluster, worker_pid, src, "compile_error", body=("Code did not compile:",))


def test_hundred_thousand_lines(cluster, worker_pid):
    lines = ["public class Long {", "    public String run() {", "        int x = 0;"]
    lines += ["        x += %d;" % (i % 7) for i in range(100000 - 6)]
    lines += ["        return \"\" + x;", "    }", "}"]
    src = "\n".join(lines) + "\n"
    assert src.count("\n") == 100000
    # One method of 100 000 statements is over the JVM's 64 KiB code limit.
    run_hostile(cluster, worker_pid, src, "compile_error",
                body=("Code did not compile:", "code too large"))


def test_hundred_thousand_lines_of_comments(cluster, worker_pid):
    src = ("public class Chatty { public String run() { return \"fine\"; } }\n"
           + "// just talking\n" * 100000)
    run_hostile(cluster, worker_pid, src, "ok", status=200)


def test_non_utf8_bytes(cluster, worker_pid):
    src = (nonce().encode()
           + b"public class Latin { public String run() { return \"caf\xe9 \xff\xfe\"; } }\n")
    r, _ = run_hostile(cluster, worker_pid, src, ("ok", "compile_error"), status=None)
    assert r.status in (200, 400), describe(r)


def test_empty_class(cluster, worker_pid):
    run_hostile(cluster, worker_pid, "public class Empty { }\n", "runtime_error",
                body=("No public String run() method",))


def test_empty_source(cluster, worker_pid):
    run_hostile(cluster, worker_pid, "", "compile_error", body=("No class name found",))


def test_no_public_class(cluster, worker_pid):
    run_hostile(cluster, worker_pid, "class Hidden { public String run() { return \"x\"; } }\n",
                "compile_error", body=("No class name found",))


def test_two_public_classes(cluster, worker_pid):
    src = ("public class First { public String run() { return \"a\"; } }\n"
           "public class Second { public String run() { return \"b\"; } }\n")
    run_hostile(cluster, worker_pid, src, "compile_error",
                body=("Code did not compile:", "Second"))


def _warm_compiler(worker_pid):
    for k in _warm_children(worker_pid):
        try:
            if b"\0ft.Compiler\0--server\0" in Path("/proc/%d/cmdline" % k).read_bytes():
                return k
        except OSError:
            continue
    return None


def _owners_below(top: Path):
    owners = set()
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames + dirnames:
            try:
                owners.add(os.lstat(os.path.join(dirpath, name)).st_uid)
            except OSError:
                continue
    return owners


def test_cold_compiles_answer_through_a_pipe(cluster, worker_pid):
    """With the warm compiler given up on (SIGKILLed three times in a row),
    every job compiles in a JVM of its own, which answers on its stdout as
    the warm one does: nothing in the job directory is the sandbox's, and
    compile errors and classes arrive as before."""
    jobs = cluster.state_dir / ("node-%d" % WORKER) / "jobs"
    since = cluster.output_sizes().get(WORKER, 0)
    answers = []
    deadline = time.monotonic() + 90
    while "compiling cold" not in cluster.output(WORKER, since=since):
        assert time.monotonic() < deadline, cluster.output(WORKER, since=since)
        pid = _warm_compiler(worker_pid)
        if pid is None:
            # A compile makes the runner start one again; it is killed with
            # the job in it, which then compiles cold.
            answers.append(_post_in_background(cluster, "public class Again { public String run()"
                                               " { return \"again\"; } }\n"))
            ftharness.wait_until(lambda: _warm_compiler(worker_pid) or not answers[-1][0].is_alive(),
                                 timeout=30, what="a warm compiler")
            continue
        os.kill(pid, signal.SIGKILL)
        ftharness.wait_until(lambda: not Path("/proc/%d" % pid).exists()
                             or Path("/proc/%d/stat" % pid).read_text().split()[2] == "Z",
                             timeout=10, what="the warm compiler to die")
        time.sleep(0.2)
    for t, out in answers:
        r = _finished(t, out)
        assert r.status == 200 and r.body == "again", describe(r)
    assert _warm_compiler(worker_pid) is None

    # Given up on for 10 s: these compile cold.
    src = ("import java.util.function.*;\n"
           "public class Cold { interface Shape { int area(); }\n"
           " static class Square implements Shape { public int area() { return 9; } }\n"
           " public String run() { Supplier<Shape> s = Square::new;"
           " return \"cold \" + s.get().area() + new Object() { public String toString() { return \"!\"; } }; } }\n")
    t, out = _post_in_background(cluster, src)
    owners = set().union(*_sample_while(t, lambda: _owners_below(jobs)))
    r = _finished(t, out)
    assert r.status == 200 and verdict(r) == "ok" and r.body == "cold 9!", describe(r)
    # Only the node writes there; a sandbox user (300000 and up) never.
    assert all(u < 300000 for u in owners), owners
    r, _ = run_hostile(cluster, worker_pid, "public class Wrong { public String run() { return 1; } }\n",
                       "compile_error", body=("Code did not compile:\nError on line 2, column 51 "
                                              "in Wrong.java: incompatible types",))
    assert _warm_compiler(worker_pid) is None, "the warm compiler came back too soon to tell"


# ---------------------------------------------------------------- afterwards


def _descendants(pid: int):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir("/proc/%d/task" % p):
                kids = Path("/proc/%d/task/%s/children" % (p, task)).read_text().split()
                for k in kids:
                    out.append(int(k))
                    todo.append(int(k))
        except OSError:
            continue
    return out


def _warm_children(pid: int):
    """The runner's own long-lived sandboxes (issue 7): the warm compiler
    (ft.Compiler --server) and pre-started run JVMs (ft.Launcher -), by
    their bwrap (a direct child of the worker) command line."""
    warm = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            kids = Path("/proc/%d/task/%s/children" % (pid, task)).read_text().split()
        except OSError:
            continue
        for k in kids:
            try:
                cmd = Path("/proc/%s/cmdline" % k).read_bytes()
            except OSError:
                continue
            if b"\0ft.Compiler\0--server\0" in cmd or cmd.endswith(b"\0ft.Launcher\0-\0"):
                warm.append(int(k))
    return warm


def test_nothing_left_behind(cluster, worker_pid):
    """Runs last (pytest keeps file order): every hostile run is over.  Only
    the runner's idle warm JVMs remain: at most one compiler and two
    pre-started run JVMs, each with a "warm-" directory of its own."""
    hello(cluster)
    jobs = cluster.state_dir / ("node-%d" % WORKER) / "jobs"

    def clean():
        warm = _warm_children(worker_pid)
        allowed = set(warm)
        for w in warm:
            allowed.update(_descendants(w))
        left = [p for p in _descendants(worker_pid) if p not in allowed]
        dirs = [p.name for p in jobs.iterdir()] if jobs.is_dir() else []
        spares = [d for d in dirs if d.startswith("warm-") and not d.startswith("warm-compiler-")]
        compilers = [d for d in dirs if d.startswith("warm-compiler-")]
        others = [d for d in dirs if not d.startswith("warm-")]
        return (not left and not others and len(warm) == len(spares) + len(compilers)
                and len(spares) <= 2 and len(compilers) <= 1) or None

    try:
        ftharness.wait_until(clean, timeout=15, what="the worker to be idle and clean")
    except TimeoutError:
        pytest.fail("left behind: processes %r (warm %r), job directories %r"
                    % (_descendants(worker_pid), _warm_children(worker_pid),
                       list(jobs.iterdir())))

    # Job cgroups (cgroup v1 on these machines: memory/<own>/ftcluster-<pid>/job-N);
    # the warm JVMs' own are expected.
    def warm_cgroups():
        found = set()
        for w in _warm_children(worker_pid):
            try:
                text = Path("/proc/%d/cgroup" % w).read_text()
            except OSError:
                continue
            for line in text.splitlines():
                _, ctrls, path = line.split(":", 2)
                for c in ctrls.split(",") if ctrls else []:
                    found.add(str(Path("/sys/fs/cgroup") / c / path.lstrip("/")))
        return found

    def cgroup_jobs():
        found = []
        for line in Path("/proc/%d/cgroup" % worker_pid).read_text().splitlines():
            _, ctrls, path = line.split(":", 2)
            for c in ctrls.split(","):
                d = Path("/sys/fs/cgroup") / c / path.lstrip("/") / ("ftcluster-%d" % worker_pid)
                if d.is_dir():
                    found += [str(p) for p in d.iterdir() if p.is_dir()]
        warm = warm_cgroups()
        return [p for p in found if p not in warm]

    try:
        ftharness.wait_until(lambda: not cgroup_jobs(), timeout=15,
                             what="job cgroups to be removed")
    except TimeoutError:
        pytest.fail("job cgroups left: %r" % cgroup_jobs())
    assert cluster.pid(WORKER) == worker_pid
