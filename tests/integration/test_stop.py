"""A clean stop of the gateway while clients wait (issue 14): every waiting
client gets an answer (503 with Retry-After, so it sends again), the
gateway exits 0, and libmicrohttpd does not abort it ("MHD_stop_daemon()
called while we have suspended connections")."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import time
import uuid

import ftharness


def slow(text: str) -> str:
    return ("// %s\npublic class S { public String run() throws Exception {"
            " Thread.sleep(4000); return \"%s\"; } }\n" % (uuid.uuid4().hex, text))


def test_sigterm_answers_every_waiting_client_and_exits_cleanly(new_cluster):
    c = new_cluster(nodes=2)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        plain = [pool.submit(c.post, slow("p%d" % i), timeout=30) for i in range(3)]
        v1 = [pool.submit(c.post, json.dumps({"source": slow("j%d" % i)}),
                          content_type="application/json", path="/v1/runs", timeout=30)
              for i in range(2)]
        ftharness.wait_until(
            lambda: "ftgw_pending_requests 5" in c.request("GET", "/metrics").body,
            timeout=15, what="five requests waiting")
        t0 = time.monotonic()
        c.kill(ftharness.GATEWAY_ID, signal.SIGTERM)
        took = time.monotonic() - t0
        plain_answers = [f.result() for f in plain]
        v1_answers = [f.result() for f in v1]
    assert took < 5, took
    assert c.procs[ftharness.GATEWAY_ID].returncode() == 0
    for r in plain_answers:
        assert r.status == 503, (r.status, r.body)
        assert r.headers.get("Retry-After"), r.headers
    # The JSON API's run is done with verdict unavailable: sent again (the
    # same Idempotency-Key too), it runs anew (docs/openapi.yaml, Verdict).
    for r in v1_answers:
        assert r.status == 200, (r.status, r.body)
        assert json.loads(r.body)["verdict"] == "unavailable", r.body
    assert not c.grep(r"Fatal error in GNU libmicrohttpd", [ftharness.GATEWAY_ID])
    assert c.grep(r"shutting down; answering 5 waiting requests", [ftharness.GATEWAY_ID])
    # Back, the gateway serves again (the requests were never lost to the
    # cluster: sent again, they are answered).
    c.start_gateway()
    r = ftharness.wait_until(lambda: (lambda r: r if r.status == 200 else None)(
        c.post(slow("again"), timeout=30)), timeout=40, what="an answer after the restart")
    assert r.body == "again"
