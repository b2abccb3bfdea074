"""Steps whose inputs are ready run side by side; effects keep their written order. Checked
by behaviour, not by timing: the loopback server answers the two reads only once both are in
flight at the same time (a barrier), so a sequential runner fails the run."""
import json
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from workflow_support import capsmith, send_json, serve


class Recorder:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(2, timeout=10)
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, status, body):
                send_json(self, status, body)

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                with rec.lock:
                    rec.events.append(("start", self.path))
                if self.path.startswith("/both/"):
                    try:
                        rec.barrier.wait()
                    except threading.BrokenBarrierError:
                        return self.answer(500, {"error": "the other read never came"})
                status = 500 if self.path.startswith("/fail") else 200
                with rec.lock:
                    rec.events.append(("end", self.path))
                self.answer(status, {"path": self.path, "n": len(self.path)})

            do_GET = handle_any
            do_POST = handle_any

        self.server, self.port = serve(Handler)

    def index(self, kind, path):
        return self.events.index((kind, path))


@pytest.fixture
def rec(tmp_path):
    r = Recorder()
    yield r
    r.server.shutdown()


def workflow(tmp_path, home, port, steps):
    text = (
        "capability:\n  id: side-by-side\n  name: Side by side\n  version: 1.0.0\n  type: workflow\n"
        "  workflow:\n    steps:\n" + steps.replace("PORT", str(port)) +
        "  permissions: [network.http.get, network.http.post, compute.light]\n  allowed_domains: ['127.0.0.1:" + str(port) + "']\n"
    )
    f = tmp_path / "wf.yaml"
    f.write_text(text)
    capsmith(home, "import", str(f))
    capsmith(home, "settings", "allow-host", "side-by-side", f"127.0.0.1:{port}")


def test_independent_reads_run_side_by_side_and_a_write_waits_for_them(tmp_path, rec):
    home = tmp_path / "home"
    workflow(tmp_path, home, rec.port, """\
      - { id: a, action: http.request, url: 'http://127.0.0.1:PORT/both/a' }
      - { id: b, action: http.request, url: 'http://127.0.0.1:PORT/both/b' }
      - { id: c, action: http.request, method: POST, url: 'http://127.0.0.1:PORT/write/c', body: { from: '${a.path}' } }
      - id: d
        action: transform.map
        mapping: { first: '${a.path}', second: '${b.path}' }
""")
    p = capsmith(home, "workflow", "run", "side-by-side", "--json", check=False)
    run = json.loads(p.stdout)
    assert run["status"] == "ok", run
    assert [s["step"] for s in run["steps"]] == ["a", "b", "c", "d"]
    assert run["output"] == {"first": "/both/a", "second": "/both/b"}
    # Both reads were in flight together; the write came after both had answered.
    assert rec.index("start", "/write/c") > rec.index("end", "/both/a")
    assert rec.index("start", "/write/c") > rec.index("end", "/both/b")


def test_no_effect_happens_after_an_earlier_step_failed(tmp_path, rec):
    home = tmp_path / "home"
    workflow(tmp_path, home, rec.port, """\
      - { id: broken, action: http.request, url: 'http://127.0.0.1:PORT/fail' }
      - { id: unrelated, action: http.request, method: POST, url: 'http://127.0.0.1:PORT/write/never' }
""")
    p = capsmith(home, "workflow", "run", "side-by-side", "--json", check=False)
    run = json.loads(p.stdout)
    assert run["status"] == "error"
    assert [s["step"] for s in run["steps"]] == ["broken"]
    assert ("start", "/write/never") not in rec.events


def test_a_step_whose_javascript_names_an_earlier_result_waits_for_it(tmp_path, rec):
    """No template ties `doubled` to `slow`: only its JavaScript names it. It must still wait."""
    home = tmp_path / "home"
    workflow(tmp_path, home, rec.port, """\
      - { id: slow, action: http.request, url: 'http://127.0.0.1:PORT/both/slow' }
      - { id: other, action: http.request, url: 'http://127.0.0.1:PORT/both/other' }
      - { id: doubled, action: transform.js, expression: 'slow.n * 2' }
      - { id: gated, action: transform.js, when: 'other.n > 0', expression: '"ran"' }
""")
    p = capsmith(home, "workflow", "run", "side-by-side", "--json", check=False)
    run = json.loads(p.stdout)
    assert run["status"] == "ok", run
    steps = {s["step"]: s for s in run["steps"]}
    assert steps["doubled"]["output"] == 2 * len("/both/slow")
    assert steps["gated"]["status"] == "ok" and steps["gated"]["output"] == "ran"
