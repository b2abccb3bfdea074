"""Agents through the CLI: per-agent configuration (secrets in the OS keyring, the agent's value
winning over the capability's), and `conflicts_with` refusing an agent a capability that clashes
with one it has. A loopback server records what each run really sent."""
import json
import sqlite3
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest

from workflow_support import capsmith, send_json, serve

ECHO = """capability:
  id: echo-key
  name: Echo key
  version: 1.0.0
  actions:
    - id: fetch
      outputs: [{ name: ok, type: boolean }]
  integration:
    type: api
    endpoint: "http://127.0.0.1:PORT/key"
    method: GET
    headers: { Authorization: "Bearer ${API_KEY}" }
    params: { region: "${REGION}" }
    response_mapping: { ok: "ok" }
  configuration:
    - { key: API_KEY, type: secret, required: true }
    - { key: REGION, type: string, default: eu }
  permissions: [network.http.get]
"""


def search(id_, version, conflicts=""):
    return f"""capability:
  id: {id_}
  name: {id_}
  version: {version}
  actions:
    - id: find
      inputs: [{{ name: q, type: string }}]
      outputs: [{{ name: q, type: string }}]
  type: code
  code:
    source: "export default {{ actions: {{ find: (i) => ({{ q: i.q }}) }} }}"
{conflicts}"""


class Seen:
    def __init__(self):
        self.requests = []
        seen = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                q = parse_qs(urlparse(self.path).query)
                seen.requests.append({"auth": self.headers.get("Authorization"), "region": q.get("region", [None])[0]})
                send_json(self, 200, {"ok": True})

        self.server, self.port = serve(Handler)


@pytest.fixture
def seen():
    s = Seen()
    yield s
    s.server.shutdown()


def test_an_agent_uses_its_own_configuration_and_secrets(tmp_path, seen):
    home = tmp_path / "home"
    f = tmp_path / "echo.yaml"
    f.write_text(ECHO.replace("PORT", str(seen.port)))
    capsmith(home, "import", str(f))
    capsmith(home, "settings", "allow-host", "echo-key", f"127.0.0.1:{seen.port}")
    capsmith(home, "config", "set", "echo-key", "API_KEY", "-", stdin="global-key-000")
    for a in ["alpha", "beta"]:
        capsmith(home, "agent", "create", a)
        capsmith(home, "agent", "add", a, "echo-key", "--yes")
    capsmith(home, "agent", "config", "alpha", "echo-key", "API_KEY", "-", stdin="alpha-key-111")
    capsmith(home, "agent", "config", "alpha", "echo-key", "REGION", "us")

    capsmith(home, "run", "echo-key", "fetch", "--json")
    capsmith(home, "agent", "run", "alpha", "echo-key.fetch", "--json")
    capsmith(home, "agent", "run", "beta", "echo-key.fetch", "--json")
    assert seen.requests == [
        {"auth": "Bearer global-key-000", "region": "eu"},
        {"auth": "Bearer alpha-key-111", "region": "us"},
        {"auth": "Bearer global-key-000", "region": "eu"},
    ]

    listed = json.loads(capsmith(home, "agent", "config", "alpha", "echo-key", "--json").stdout)
    by_key = {e["key"]: e for e in listed}
    assert by_key["API_KEY"]["set"] is True and by_key["API_KEY"]["value"] is None
    assert by_key["REGION"]["value"] == "us"
    # The agent's secret is in the keyring, nowhere in the registry.
    dump = "\n".join(sqlite3.connect(home / "registry.sqlite3").iterdump())
    assert "alpha-key-111" not in dump and "global-key-000" not in dump

    # A value the capability does not declare, or of the wrong type, is refused.
    bad = capsmith(home, "agent", "config", "alpha", "echo-key", "NOPE", "x", check=False)
    assert bad.returncode == 1 and "no configuration key `NOPE`" in bad.stderr

    # Unset: back to the capability's own value.
    capsmith(home, "agent", "config", "alpha", "echo-key", "REGION", "--unset")
    capsmith(home, "agent", "run", "alpha", "echo-key.fetch", "--json")
    assert seen.requests[-1] == {"auth": "Bearer alpha-key-111", "region": "eu"}

    # Removing the capability from the agent takes the agent's secret out of the keyring.
    capsmith(home, "agent", "remove", "alpha", "echo-key")
    capsmith(home, "agent", "add", "alpha", "echo-key", "--yes")
    capsmith(home, "agent", "run", "alpha", "echo-key.fetch", "--json")
    assert seen.requests[-1]["auth"] == "Bearer global-key-000"


def test_conflicts_with_keeps_clashing_capabilities_off_one_agent(tmp_path):
    home = tmp_path / "home"
    files = {
        "old.yaml": search("old-search", "1.4.0"),
        "new.yaml": search("new-search", "2.0.0", "  conflicts_with:\n    - { id: old-search, version: '<2' }\n"),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        capsmith(home, "import", str(tmp_path / name))
    capsmith(home, "agent", "create", "finder")
    capsmith(home, "agent", "add", "finder", "old-search", "--yes")
    p = capsmith(home, "agent", "add", "finder", "new-search", "--yes", "--json", check=False)
    assert p.returncode == 1
    err = json.loads(p.stdout)
    assert err["kind"] == "unresolvable", err
    assert "new-search@2.0.0" in err["message"] and "old-search@1.4.0" in err["message"], err
    # Nothing changed on that agent; another agent takes new-search alone.
    shown = json.loads(capsmith(home, "agent", "show", "finder", "--json").stdout)
    assert [c["capability"] for c in shown["capabilities"]] == ["old-search"]
    capsmith(home, "agent", "create", "other")
    capsmith(home, "agent", "add", "other", "new-search", "--yes")

    # A manifest conflicting with itself or with a dependency is refused at validation.
    bad = tmp_path / "bad.yaml"
    bad.write_text(search("weird", "1.0.0", "  dependencies: [{ id: old-search }]\n  conflicts_with: [{ id: old-search }, { id: weird }]\n"))
    v = capsmith(home, "validate", str(bad), check=False)
    assert v.returncode == 1
    out = v.stdout + v.stderr
    assert "depends-on-conflict" in out and "self-dependency" in out, out
