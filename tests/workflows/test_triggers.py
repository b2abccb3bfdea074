"""Webhook and schedule triggers through `capsmith workflow serve`: a real listener on loopback,
driven over HTTP; the guards (browser origins, non-JSON bodies, credentials in headers) tried
from the outside."""
import json
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from workflow_support import BIN, capsmith

HOOK = """capability:
  id: echo-hook
  name: Echo hook
  version: 1.0.0
  type: workflow
  workflow:
    trigger: webhook
    filter: "body.kind !== 'ignore'"
    steps:
      - id: shaped
        action: transform.js
        input: "${trigger.body}"
        expression: "({ greeting: 'hello ' + input.name, items: input.items.length })"
      - id: answer
        action: transform.map
        input: "${shaped}"
        mapping:
          greeting: "${shaped.greeting}"
          count: "${shaped.items}"
    output: answer
  permissions: [compute.light]
"""

TICK = """capability:
  id: every-second
  name: Every second
  version: 1.0.0
  type: workflow
  workflow:
    trigger: schedule
    schedule: "* * * * * *"
    steps:
      - { id: note, action: log.write, message: "tick" }
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    home = tmp_path / "home"
    for name, text in [("hook.yaml", HOOK), ("tick.yaml", TICK)]:
        (tmp_path / name).write_text(text)
        capsmith(home, "import", str(tmp_path / name))
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN), "--home", str(home), "workflow", "serve", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.time() < deadline, "the trigger service did not start"
            time.sleep(0.05)
    yield home, f"http://127.0.0.1:{port}"
    proc.terminate()
    assert proc.wait(timeout=10) == 0, proc.stderr.read()


def post(url, body, headers=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_a_webhook_runs_the_workflow_and_answers_with_its_output(served):
    home, base = served
    status, text = post(f"{base}/hooks/echo-hook", {"name": "Ada", "items": [1, 2, 3]}, {"Authorization": "Bearer hook-secret-123"})
    assert status == 200, text
    assert json.loads(text) == {"greeting": "hello Ada", "count": 3}
    # Recorded like any run, without the credential the caller sent.
    runs = json.loads(capsmith(home, "workflow", "runs", "echo-hook", "--json").stdout)
    assert runs[0]["status"] == "ok" and [s["step"] for s in runs[0]["steps"]] == ["shaped", "answer"]
    dump = "\n".join(sqlite3.connect(home / "registry.sqlite3").iterdump())
    assert "hook-secret-123" not in dump
    assert '"name":"Ada"' in dump.replace(" ", "")
    # The filter turns some requests away: no content, no step.
    status, text = post(f"{base}/hooks/echo-hook", {"kind": "ignore", "name": "x", "items": []})
    assert status == 204


def test_the_webhook_listener_refuses_what_it_must(served):
    home, base = served
    body = {"name": "x", "items": []}
    # A web page in the user's browser cannot drive a workflow.
    status, text = post(f"{base}/hooks/echo-hook", body, {"Origin": "https://evil.example"})
    assert status == 403 and json.loads(text)["kind"] == "forbidden"
    # A form post (no preflight) is not JSON: refused.
    status, text = post(f"{base}/hooks/echo-hook", None, {"Content-Type": "text/plain"}, raw=b'{"name": "x", "items": []}')
    assert status == 415
    status, text = post(f"{base}/hooks/echo-hook", None, raw=b"{not json")
    assert status == 400 and json.loads(text)["kind"] == "invalid_input"
    # Only webhook workflows answer; other capabilities are not reachable this way.
    for other in ["every-second", "text-toolkit", "no-such-thing"]:
        status, text = post(f"{base}/hooks/{other}", body)
        assert status == 404, (other, text)
    # A failing run is a 502 with the run's error, not a hang or a crash.
    status, text = post(f"{base}/hooks/echo-hook", {"name": "x"})
    assert status == 502 and "failed" in json.loads(text)["message"]
    runs = json.loads(capsmith(home, "workflow", "runs", "echo-hook", "--json").stdout)
    assert runs[0]["status"] == "error"


def test_a_scheduled_workflow_runs_on_time(served):
    home, _ = served
    deadline = time.time() + 15
    while True:
        runs = json.loads(capsmith(home, "workflow", "runs", "every-second", "--json").stdout)
        if len(runs) >= 2:
            break
        assert time.time() < deadline, runs
        time.sleep(0.3)
    assert all(r["status"] == "ok" for r in runs)


def test_a_burst_of_webhooks_is_recorded_run_by_run(served):
    """Runs without side effects are group-committed: many at once must each get their own
    record (run, steps, audit-log entry), none lost or merged."""
    from concurrent.futures import ThreadPoolExecutor

    home, base = served
    names = [f"n{i}" for i in range(60)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda n: post(f"{base}/hooks/echo-hook", {"name": n, "items": [1]}), names))
    assert all(status == 200 for status, _ in answers), answers[:3]
    assert sorted(json.loads(t)["greeting"] for _, t in answers) == sorted(f"hello {n}" for n in names)
    runs = json.loads(capsmith(home, "workflow", "runs", "echo-hook", "--limit", "100", "--json").stdout)
    assert len(runs) == 60 and len({r["id"] for r in runs}) == 60
    assert all(r["status"] == "ok" and [s["step"] for s in r["steps"]] == ["shaped", "answer"] for r in runs)
    assert sorted(r["output"]["greeting"] for r in runs) == sorted(f"hello {n}" for n in names)
    audit = json.loads(capsmith(home, "runs", "echo-hook", "--limit", "100", "--json").stdout)
    assert len(audit) == 60 and all(a["origin"] == "trigger" and a["status"] == "ok" for a in audit)
