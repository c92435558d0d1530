"""ftctl against a real cluster (3 nodes + gateway + ZooKeeper): runs by id
(get, wait, cancel), submit --no-wait, a source from standard input,
--expect, and -P: 200 files through a gateway that holds only a few
requests at once, every one answered with its own answer although the
gateway refused many of them (503 overloaded, Retry-After) on the way.

The older ftctl tests (submit's output, status, watch, logs) are in
test_api.py, with the JSON API they use.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import ftharness

MAX_PENDING = 3  # small: -P 8 is more than the gateway holds
RUN_WALL_MS = 30000  # generous: a loaded machine must not turn sleeps into time limits
FT_CLUSTER_OPTIONS = {"nodes": 3,
                      "limits": {"max_pending_requests": MAX_PENDING,
                                 "run_wall_ms": RUN_WALL_MS}}

MANY = 200  # files of the -P test
RUN_ID = re.compile(r"[0-9a-f]{16}")


def ftctl_bin() -> Path:
    p = ftharness.build_dir() / "ftctl"
    if not p.exists():
        pytest.fail("ftctl is not built in %s" % p.parent)
    return p


def ftctl(cluster, *args: str, stdin: Optional[str] = None,
          timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(ftctl_bin()), "--gateway", "http://" + cluster.gw_http, *args],
                          capture_output=True, text=True, timeout=timeout,
                          input=stdin if stdin is not None else "")


def nonce() -> str:
    return "// %s\n" % uuid.uuid4().hex


def returning(cls: str, text: str) -> str:
    return nonce() + ("public class %s {\n    public String run() {\n        return \"%s\";\n"
                      "    }\n}\n" % (cls, text))


def sleeper(cls: str, ms: int) -> str:
    return nonce() + ("public class %s {\n    public String run() throws Exception {\n"
                      "        Thread.sleep(%d);\n        return \"slept\";\n    }\n}\n"
                      % (cls, ms))


MAIN_UPPER = ("public class Upper { public static void main(String[] a) throws Exception { "
              "System.out.print(new String(System.in.readAllBytes()).toUpperCase()); } }\n")


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def json_lines(out: str) -> List[Dict]:
    return [json.loads(line) for line in out.splitlines()]


def overloaded_count(cluster) -> float:
    """ftgw_requests_total{verdict="overloaded"}: the gateway's 503s for
    too many pending requests, counted since it started."""
    r = cluster.request("GET", "/metrics")
    assert r.status == 200, r.body
    m = re.search(r'^ftgw_requests_total\{verdict="overloaded"\} (\S+)$', r.body, re.M)
    return float(m.group(1)) if m else 0.0


def wait_idle(cluster, timeout: float = 30) -> None:
    """Until the gateway holds no request (a test leaves room for the next)."""
    def idle():
        r = cluster.request("GET", "/v1/recent?limit=1")
        return r.status == 200 and json.loads(r.body)["in_flight"] == 0
    ftharness.wait_until(idle, timeout, interval=0.1, what="the gateway to hold no request")


# --------------------------------------------------------------------------
# Usage


def test_help_of_the_run_commands():
    for cmd in ("get", "wait", "cancel"):
        p = subprocess.run([str(ftctl_bin()), cmd, "--help"], capture_output=True, text=True,
                           timeout=10)
        assert p.returncode == 0 and p.stdout.startswith("Usage: ftctl"), (cmd, p)
        assert cmd in p.stdout.splitlines()[0]
        h = subprocess.run([str(ftctl_bin()), "help", cmd], capture_output=True, text=True,
                           timeout=10)
        assert h.stdout == p.stdout
        none = subprocess.run([str(ftctl_bin()), cmd], capture_output=True, text=True,
                              timeout=10)
        assert none.returncode == 64 and "no run ID" in none.stderr, none
        bad = subprocess.run([str(ftctl_bin()), cmd, "../v1/limits"], capture_output=True,
                             text=True, timeout=10)
        assert bad.returncode == 64 and "not a run ID" in bad.stderr, bad
    for opts in (["-P", "0"], ["--parallel", "lots"], ["-P", "1025"], ["--compare", "fuzzy"]):
        p = subprocess.run([str(ftctl_bin()), "submit", *opts, "X.java"], capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 64, (opts, p)
    p = subprocess.run([str(ftctl_bin()), "submit", "-", "-"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 64 and "only once" in p.stderr, p


# --------------------------------------------------------------------------
# The bash completion script agrees with --help


COMPLETION = ftharness.REPO_ROOT / "packaging" / "bash-completion" / "ftctl"


def complete(*words: str, cwd: Optional[Path] = None) -> List[str]:
    """What the script offers for the words typed so far (the last one
    being completed), as bash would call it."""
    script = ('source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ftctl; '
              '[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", script, str(COMPLETION), *words], capture_output=True,
                       text=True, timeout=10, cwd=cwd)
    assert p.returncode == 0 and p.stderr == "", p
    return p.stdout.split()


def help_options(text: str) -> List[str]:
    """The options a --help text defines (not those its prose mentions)."""
    return re.findall(r"^ +(?:(-[A-Za-z]), )?(--[a-z][a-z0-9-]*)", text, re.M)


def test_bash_completion_offers_what_help_lists(tmp_path):
    main = subprocess.run([str(ftctl_bin()), "--help"], capture_output=True, text=True,
                          timeout=10).stdout
    section = main.split("Commands")[1].split("\n\n")[0]
    commands = re.findall(r"^  ([a-z]+) ", section, re.M)
    assert "submit" in commands and "cancel" in commands, commands
    assert complete("ftctl", "") == commands + ["help"]
    assert complete("ftctl", "help", "") == commands + ["help"]
    glob = main.split("Global options")[1].split("\n\n")[0]
    want = {o for pair in help_options(glob) for o in pair if o}
    assert set(complete("ftctl", "-")) == want
    for cmd in commands:
        text = subprocess.run([str(ftctl_bin()), cmd, "--help"], capture_output=True,
                              text=True, timeout=10).stdout
        want = {o for pair in help_options(text) for o in pair if o}
        assert set(complete("ftctl", "-t", "5", cmd, "-")) == want, cmd
    assert complete("ftctl", "submit", "--compare", "") == ["trailing_whitespace", "exact"]
    assert complete("ftctl", "submit", "-P", "") == []
    # Java sources (and directories) for submit and --with; any file for --stdin.
    (tmp_path / "A.java").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    assert sorted(complete("ftctl", "submit", "", cwd=tmp_path)) == ["A.java", "sub"]
    assert sorted(complete("ftctl", "submit", "-w", "", cwd=tmp_path)) == ["A.java", "sub"]
    assert sorted(complete("ftctl", "submit", "--stdin", "", cwd=tmp_path)) == [
        "A.java", "notes.txt", "sub"]


# --------------------------------------------------------------------------
# --no-wait, get, wait


def test_no_wait_then_get_and_wait(cluster, tmp_path):
    a = write(tmp_path, "NwA.java", returning("NwA", "answer of A"))
    b = write(tmp_path, "NwB.java", sleeper("NwB", 1500))
    t0 = time.monotonic()
    p = ftctl(cluster, "submit", "--no-wait", a, b)
    took = time.monotonic() - t0
    assert p.returncode == 0, p
    assert took < 1.5, "--no-wait waited %.1f s" % took
    ids = {}
    for line in p.stdout.splitlines():
        run_id, file = line.split(" ", 1)
        assert RUN_ID.fullmatch(run_id), line
        ids[file] = run_id
    assert set(ids) == {a, b}, p.stdout
    # B sleeps: not done yet.
    g = ftctl(cluster, "get", ids[b])
    assert g.returncode == 0, g
    assert re.fullmatch(r"== %s: (queued|running \(worker \d+\))\n" % ids[b], g.stdout), g.stdout
    w = ftctl(cluster, "wait", ids[a], ids[b])
    assert w.returncode == 0, w
    heads = [line for line in w.stdout.splitlines() if line.startswith("== ")]
    assert len(heads) == 2, w.stdout
    for i in ids.values():
        assert re.search(r"^== %s: ok \(worker \d+, \d+ ms\)$" % i, w.stdout, re.M), w.stdout
    assert "\nanswer of A\n" in w.stdout and "\nslept\n" in w.stdout
    # Once done, get shows the result; as JSON, the run as the API gives it.
    g = ftctl(cluster, "get", "--json", ids[a], ids[b])
    assert g.returncode == 0, g
    runs = json_lines(g.stdout)
    assert [r["id"] for r in runs] == [ids[a], ids[b]]
    assert all(r["status"] == "done" and r["verdict"] == "ok" for r in runs), runs
    assert runs[0]["output"] == "answer of A" and "file" not in runs[0]
    # --no-wait --json: the run as accepted, plus its file.
    c = write(tmp_path, "NwC.java", returning("NwC", "C"))
    j = ftctl(cluster, "submit", "--no-wait", "--json", c)
    assert j.returncode == 0, j
    (run,) = json_lines(j.stdout)
    assert run["file"] == c and RUN_ID.fullmatch(run["id"]) and run["status"], run
    w = ftctl(cluster, "wait", "--json", run["id"])
    assert w.returncode == 0 and json_lines(w.stdout)[0]["output"] == "C", w


def test_wait_exit_status_follows_the_verdict(cluster, tmp_path):
    bad = write(tmp_path, "Broken.java", nonce() + "public class Broken { int run() {\n")
    p = ftctl(cluster, "submit", "--no-wait", bad)
    assert p.returncode == 0, p
    run_id = p.stdout.split()[0]
    w = ftctl(cluster, "wait", run_id)
    assert w.returncode == 1, w
    assert w.stdout.startswith("== %s: compile_error" % run_id), w.stdout
    assert "Code did not compile" in w.stdout or "error" in w.stdout
    # Unknown runs: an error, exit 2, for get, wait and cancel alike.
    for cmd in ("get", "wait", "cancel"):
        u = ftctl(cluster, cmd, "0123456789abcdef")
        assert u.returncode == 2, (cmd, u)
        assert u.stdout.startswith("== 0123456789abcdef: error: "), u.stdout
        assert "HTTP 404" in u.stdout
    u = ftctl(cluster, "get", "--json", "0123456789abcdef")
    assert json_lines(u.stdout) == [{"id": "0123456789abcdef", "error": "run_not_found",
                                     "message": json_lines(u.stdout)[0]["message"]}]


def test_wait_is_bounded_by_timeout(cluster, tmp_path):
    s = write(tmp_path, "Slow.java", sleeper("Slow", 6000))
    p = ftctl(cluster, "submit", "--no-wait", s)
    assert p.returncode == 0, p
    run_id = p.stdout.split()[0]
    t0 = time.monotonic()
    w = ftctl(cluster, "--timeout", "1", "wait", run_id)
    took = time.monotonic() - t0
    assert w.returncode == 2, w
    assert w.stdout == "== %s: error: not done after 1 s (--timeout)\n" % run_id, w.stdout
    assert took < 4, took
    c = ftctl(cluster, "cancel", run_id)
    assert c.returncode in (0, 1), c  # (on a very slow machine it may have finished)
    wait_idle(cluster)


# --------------------------------------------------------------------------
# cancel


def test_cancel_a_running_run_then_again(cluster, tmp_path):
    s = write(tmp_path, "Forever.java", sleeper("Forever", 25000))
    p = ftctl(cluster, "submit", "--no-wait", s)
    assert p.returncode == 0, p
    run_id = p.stdout.split()[0]
    t0 = time.monotonic()
    c = ftctl(cluster, "cancel", run_id)
    assert c.returncode == 0, c
    assert c.stdout.startswith("== %s: cancelled" % run_id), c.stdout
    # Its waiters see the verdict too, at once; a verdict that is not ok.
    w = ftctl(cluster, "wait", "--json", run_id)
    assert w.returncode == 1, w
    assert json_lines(w.stdout)[0]["verdict"] == "cancelled"
    assert time.monotonic() - t0 < 10
    # A second cancel: the run had finished, said clearly, exit 1.
    again = ftctl(cluster, "cancel", run_id)
    assert again.returncode == 1, again
    assert again.stdout == ("== %s: error: already finished, not cancelled (HTTP 409 "
                            "run_finished; ftctl get shows its result)\n" % run_id), again.stdout
    js = ftctl(cluster, "cancel", "--json", run_id)
    assert js.returncode == 1 and json_lines(js.stdout)[0]["error"] == "run_finished", js
    wait_idle(cluster)


# --------------------------------------------------------------------------
# A source from standard input; --expect


def test_submit_source_from_stdin(cluster, tmp_path):
    src = returning("FromStdin", "read from stdin")
    p = ftctl(cluster, "submit", "--quiet", "-", stdin=src)
    assert p.returncode == 0, p
    assert re.fullmatch(r"== -: ok \(worker \d+, \d+ ms\)\nread from stdin\n", p.stdout), p.stdout
    # With a helper file: named after its public class.
    helper = write(tmp_path, "Helper3.java",
                   "class Helper3 { static String hi() { return \"helped\"; } }\n")
    main = nonce() + ("public class UsesHelper3 { public String run() { return Helper3.hi(); } }"
                      "\n")
    p = ftctl(cluster, "submit", "--json", "--with", helper, "-", stdin=main)
    assert p.returncode == 0, p
    (run,) = json_lines(p.stdout)
    assert run["file"] == "-" and run["output"] == "helped", run
    # And next to files from disk.
    f = write(tmp_path, "OnDisk.java", returning("OnDisk", "from disk"))
    p = ftctl(cluster, "submit", "--json", f, "-", stdin=returning("Piped", "from a pipe"))
    assert p.returncode == 0, p
    assert {r["file"]: r["output"] for r in json_lines(p.stdout)} == {
        f: "from disk", "-": "from a pipe"}


def test_expect_accepted_and_wrong_answer(cluster, tmp_path):
    prog = write(tmp_path, "Upper.java", nonce() + MAIN_UPPER)
    data = write(tmp_path, "in.txt", "abc\n")
    good = write(tmp_path, "good.txt", "ABC\n\n")  # trailing empty lines are forgiven
    wrong = write(tmp_path, "wrong.txt", "ABD\n")
    p = ftctl(cluster, "submit", "--quiet", "--stdin", data, "--expect", good, prog)
    assert p.returncode == 0, p
    assert re.match(r"== %s: accepted \(worker \d+, \d+ ms\)\nABC\n" % re.escape(prog),
                    p.stdout), p.stdout
    p = ftctl(cluster, "submit", "--quiet", "--stdin", data, "--expect", wrong, prog)
    assert p.returncode == 1, p
    # (the run itself may come from the gateway's cache: judging is not cached)
    assert re.match(r"== %s: wrong_answer \((worker \d+, \d+ ms|cached)\)\nABC\n"
                    % re.escape(prog),
                    p.stdout), p.stdout
    # --compare exact: the extra empty line counts.
    p = ftctl(cluster, "submit", "--json", "--stdin", data, "--expect", good, "--compare",
              "exact", prog)
    assert p.returncode == 1 and json_lines(p.stdout)[0]["verdict"] == "wrong_answer", p
    # A run() program is judged by the string it returns.
    r = write(tmp_path, "Ret.java", returning("Ret", "forty-two"))
    exp = write(tmp_path, "exp.txt", "forty-two")
    p = ftctl(cluster, "submit", "--json", "--expect", exp, r)
    assert p.returncode == 0 and json_lines(p.stdout)[0]["verdict"] == "accepted", p
    # --expect from standard input.
    p = ftctl(cluster, "submit", "--json", "--expect", "-", r, stdin="forty-three\n")
    assert p.returncode == 1 and json_lines(p.stdout)[0]["verdict"] == "wrong_answer", p
    missing = ftctl(cluster, "submit", "--expect", str(tmp_path / "nope.txt"), r)
    assert missing.returncode == 2 and "nope.txt: cannot read" in missing.stderr, missing


# --------------------------------------------------------------------------
# -P against a gateway that refuses


def test_parallel_200_files_all_answered_through_503s(cluster, tmp_path):
    """-P 8 against max_pending_requests 3: the gateway refuses with 503
    and Retry-After; every file is sent again until it is answered, each
    with its own answer."""
    wait_idle(cluster)
    tag = uuid.uuid4().hex[:8]
    files, want = [], {}
    for i in range(MANY):
        cls = "Many%03d" % i
        f = write(tmp_path, cls + ".java", returning(cls, "answer %d of %s" % (i, tag)))
        files.append(f)
        want[f] = "answer %d of %s" % (i, tag)
    refused_before = overloaded_count(cluster)
    t0 = time.monotonic()
    p = ftctl(cluster, "--timeout", "100", "submit", "-P", "8", "--json", "--progress", *files,
              timeout=110)
    took = time.monotonic() - t0
    refused = overloaded_count(cluster) - refused_before
    print("\n-P 8, %d files, max_pending_requests %d: %.1f s, %d refusals (503)"
          % (MANY, MAX_PENDING, took, refused))
    assert p.returncode == 0, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    results = json_lines(p.stdout)
    assert len(results) == MANY  # each file once
    got = {r["file"]: r for r in results}
    assert set(got) == set(files)
    for f, r in got.items():
        assert r["verdict"] == "ok" and r["output"] == want[f], r
    assert len({r["id"] for r in results}) == MANY
    # The gateway did refuse on the way, and ftctl retried those.
    assert refused > 0, "no 503 at all: the test did not load the gateway"
    assert re.search(r"\[\d+/%d done, \d+ waiting, \d+ to retry\]" % MANY, p.stderr), \
        p.stderr[-500:]
    said = re.search(r"ftctl: the gateway refused (\d+) times \(503 or 429\)", p.stderr)
    assert said and int(said.group(1)) == refused, p.stderr[-500:]
    assert took < 60, "%d files took %.1f s" % (MANY, took)


def test_refused_until_timeout_is_reported_not_dropped(cluster, tmp_path):
    """A gateway full of sleepers refuses a new run until --timeout: the
    file gets an answer saying so."""
    wait_idle(cluster)
    sleepers = [write(tmp_path, "Full%d.java" % i, sleeper("Full%d" % i, 20000))
                for i in range(MAX_PENDING)]
    p = ftctl(cluster, "submit", "--no-wait", *sleepers)
    assert p.returncode == 0, p
    ids = [line.split()[0] for line in p.stdout.splitlines()]
    try:
        late = write(tmp_path, "Late.java", returning("Late", "late"))
        t0 = time.monotonic()
        r = ftctl(cluster, "--timeout", "3", "submit", "--json", late)
        took = time.monotonic() - t0
        assert r.returncode == 2, r
        (res,) = json_lines(r.stdout)
        assert res["file"] == late and res["error"] == "overloaded", res
        assert re.match(r"refused \d+ times until --timeout, last: .* \(HTTP 503\)$",
                        res["message"]), res
        assert 1.5 < took < 6, took
    finally:
        ftctl(cluster, "cancel", *ids)
    wait_idle(cluster)
