"""Webhook and schedule triggers through `capsmith workflow serve`: a real listener on loopback,
driven over HTTP; the guards (the workflow's secret, Host, POST only, browser origins, non-JSON
and oversize bodies, credentials in headers) tried from the outside, as a web page or a
rebinding attacker would."""
import hashlib
import hmac
import http.client
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
    SECRET["echo-hook"] = capsmith(home, "workflow", "secret", "echo-hook").stdout.strip()
    yield home, f"http://127.0.0.1:{port}"
    proc.terminate()
    assert proc.wait(timeout=10) == 0, proc.stderr.read()


# Each webhook workflow's secret, read with `capsmith workflow secret` once the service runs.
SECRET = {}


def post(url, body, headers=None, raw=None, auth=True, method="POST"):
    """A request as the sending service makes it: with the workflow's bearer secret, unless
    `auth` is False (then only what `headers` carries)."""
    data = raw if raw is not None else json.dumps(body).encode()
    hook = url.rsplit("/", 1)[-1]
    bearer = {"Authorization": f"Bearer {SECRET.get(hook, 'none')}"} if auth else {}
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **bearer, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_a_webhook_runs_the_workflow_and_answers_with_its_output(served):
    home, base = served
    credentials = {"Cookie": "sid=cookie-123", "X-My-Token": "token-123", "X-Hub-Signature-256": "sig-123", "X-Session-Id": "session-123"}
    status, text = post(f"{base}/hooks/echo-hook", {"name": "Ada", "items": [1, 2, 3]}, credentials)
    assert status == 200, text
    assert json.loads(text) == {"greeting": "hello Ada", "count": 3}
    # Recorded like any run, without the secret or any credential-like header the caller sent.
    runs = json.loads(capsmith(home, "workflow", "runs", "echo-hook", "--json").stdout)
    assert runs[0]["status"] == "ok" and [s["step"] for s in runs[0]["steps"]] == ["shaped", "answer"]
    dump = "\n".join(sqlite3.connect(home / "registry.sqlite3").iterdump())
    for leaked in [SECRET["echo-hook"], "cookie-123", "token-123", "sig-123", "session-123"]:
        assert leaked not in dump, leaked
    assert "user-agent" in dump.lower(), "ordinary headers are kept"
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


def raw(base, method, path, headers, body=b""):
    """One request exactly as given: no Host or other header added by the client library."""
    host, port = base.removeprefix("http://").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            c.putheader(k, v)
        c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        return r.status, r.read().decode()
    except (BrokenPipeError, ConnectionResetError) as e:
        # The listener may answer and close before a refused body is sent whole.
        return None, str(e)
    finally:
        c.close()


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def audit(home):
    return json.loads(capsmith(home, "runs", "echo-hook", "--limit", "500", "--json").stdout)


def test_a_webhook_needs_its_secret_its_own_host_and_post(served):
    home, base = served
    port = base.rsplit(":", 1)[1]
    secret = SECRET["echo-hook"]
    data = json.dumps({"name": "Eve", "items": []}).encode()
    own = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json"}
    bearer = {"Authorization": f"Bearer {secret}"}
    runs_before = len(json.loads(capsmith(home, "workflow", "runs", "echo-hook", "--limit", "500", "--json").stdout))
    denied_before = sum(a["status"] == "denied" for a in audit(home))
    attempts = [
        # What an <img src> or a link prefetch sends: a GET, no Origin, no secret.
        ("GET", {"Host": f"127.0.0.1:{port}"}, b"", 405, "method_not_allowed"),
        ("GET", {**own, **bearer}, b"", 405, "method_not_allowed"),
        ("PUT", {**own, **bearer}, data, 405, "method_not_allowed"),
        # No secret, a truncated or extended one, another scheme, a bare value.
        ("POST", own, data, 401, "unauthorized"),
        ("POST", {**own, "Authorization": f"Bearer {secret[:-1]}"}, data, 401, "unauthorized"),
        ("POST", {**own, "Authorization": f"Bearer {secret}0"}, data, 401, "unauthorized"),
        ("POST", {**own, "Authorization": f"Basic {secret}"}, data, 401, "unauthorized"),
        ("POST", {**own, "Authorization": secret}, data, 401, "unauthorized"),
        # A signature of another body, a forged one, the secret itself as the signature.
        ("POST", {**own, "X-Capsmith-Signature": sign(secret, b'{"name": "x"}')}, data, 401, "unauthorized"),
        ("POST", {**own, "X-Capsmith-Signature": "sha256=" + "0" * 64}, data, 401, "unauthorized"),
        ("POST", {**own, "X-Capsmith-Signature": f"sha256={secret}"}, data, 401, "unauthorized"),
        # DNS rebinding: the right secret (read back by the attacker's page is the goal), the
        # wrong Host; and no Host at all.
        ("POST", {**own, **bearer, "Host": f"evil.test:{port}"}, data, 421, "wrong_host"),
        ("POST", {**own, **bearer, "Host": "127.0.0.1"}, data, 421, "wrong_host"),
        ("POST", {"Content-Type": "application/json", **bearer}, data, 421, "wrong_host"),
        # A browser's form post, and a page's fetch with an Origin.
        ("POST", {**own, **bearer, "Content-Type": "text/plain"}, data, 415, "unsupported_media_type"),
        ("POST", {**own, **bearer, "Origin": "null"}, data, 403, "forbidden"),
    ]
    for method, headers, body, want, kind in attempts:
        status, text = raw(base, method, "/hooks/echo-hook", headers, body)
        assert status == want, (method, headers, status, text)
        assert json.loads(text)["kind"] == kind, text
    # A body over the cap is refused (before or after the client finished sending it).
    status, text = raw(base, "POST", "/hooks/echo-hook", {**own, **bearer}, b'{"name": "' + b"x" * (5 << 20) + b'"}')
    assert status in (413, None), (status, text[:200])
    # None of them ran the workflow, and each is in the audit log as denied.
    runs_after = json.loads(capsmith(home, "workflow", "runs", "echo-hook", "--limit", "500", "--json").stdout)
    assert len(runs_after) == runs_before
    denied = [a for a in audit(home) if a["status"] == "denied"]
    assert len(denied) - denied_before >= len(attempts), denied[:3]
    assert all(a["security_violation"] for a in denied)
    # The signature path works for a sender that signs instead of sending the secret.
    status, text = raw(base, "POST", "/hooks/echo-hook", {**own, "X-Capsmith-Signature": sign(secret, data)}, data)
    assert status == 200, text
    assert json.loads(text)["greeting"] == "hello Eve"
    # localhost names the listener as well.
    status, text = raw(base, "POST", "/hooks/echo-hook", {**own, **bearer, "Host": f"localhost:{port}"}, data)
    assert status == 200, text


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
