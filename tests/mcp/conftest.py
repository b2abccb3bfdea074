"""`capsmith mcp serve` driven by the official Python MCP SDK (stdio and streamable HTTP).

The CLI binary is CAPSMITH_BIN (default target/debug/capsmith); each test session gets a fresh
library home, seeded by the CLI on first use and set up with two agents:

* `writer`: the example `text-toolkit` (pure computation, no network);
* `guard`: `guarded-probe`, written here, whose one action calls a loopback address that the
  network guard refuses before anything is sent.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPSMITH_BIN = Path(os.environ.get("CAPSMITH_BIN", ROOT / "target/debug/capsmith"))

GUARDED_PROBE = textwrap.dedent(
    """\
    capability:
      id: guarded-probe
      name: Guarded Probe
      version: 1.0.0
      description: Calls an address the network guard refuses
      actions:
        - id: probe
          name: Probe
          description: Fetch a status from a loopback address
          inputs:
            - { name: q, type: string, required: false }
          outputs:
            - { name: status, type: string }
      integration:
        type: api
        endpoint: "https://127.0.0.1:9/status"
        method: GET
        response_mapping:
          status: "status"
      permissions: [network.http.get]
    """
)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def capsmith_bin() -> Path:
    if not (CAPSMITH_BIN.is_file() and os.access(CAPSMITH_BIN, os.X_OK)):
        pytest.fail(
            f"the capsmith CLI is missing: {CAPSMITH_BIN} "
            "(build it with `cargo build -p capsmith-cli`, or set CAPSMITH_BIN)",
            pytrace=False,
        )
    return CAPSMITH_BIN


@pytest.fixture(scope="session")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="capsmith-mcp-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_cli(bin_: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(bin_), "--home", str(home), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"`capsmith {' '.join(args)}` exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}",
            pytrace=False,
        )
    return proc


@pytest.fixture(scope="session")
def home(capsmith_bin: Path, workdir: Path) -> Path:
    """A library home with the agents `writer` (text-toolkit) and `guard` (guarded-probe)."""
    h = workdir / "home"
    manifest = workdir / "guarded-probe.yaml"
    manifest.write_text(GUARDED_PROBE)
    run_cli(capsmith_bin, h, "agent", "create", "writer")
    run_cli(capsmith_bin, h, "agent", "add", "writer", "text-toolkit", "--yes")
    run_cli(capsmith_bin, h, "import", str(manifest))
    run_cli(capsmith_bin, h, "agent", "create", "guard")
    run_cli(capsmith_bin, h, "agent", "add", "guard", "guarded-probe", "--yes")
    return h


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpServer:
    """`capsmith mcp serve --agent AGENT --http 127.0.0.1:PORT` in the background."""

    def __init__(self, bin_: Path, home: Path, agent: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        # The agent's bearer token, as a user copies it from the Agents page.
        self.token = run_cli(bin_, home, "mcp", "token", "--agent", agent).stdout.strip()
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.log_path = log
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [str(bin_), "--home", str(home), "mcp", "serve", "--agent", agent,
             "--http", f"127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"`mcp serve --http` exited {self.proc.returncode} before listening:\n"
                    f"{self.output()}",
                    pytrace=False,
                )
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        pytest.fail(f"`mcp serve --http` did not listen on {self.port} within {timeout}s:\n"
                    f"{self.output()}", pytrace=False)

    def interrupt(self, timeout: float = 10.0) -> int | None:
        """Ctrl-C; the exit code, or None when it did not stop in time (then it is killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def http_server(capsmith_bin: Path, home: Path, workdir: Path):
    servers = []

    def start(agent: str = "writer") -> HttpServer:
        s = HttpServer(capsmith_bin, home, agent, workdir / f"http-{agent}-{len(servers)}.log")
        servers.append(s)
        s.wait_listening()
        return s

    yield start
    for s in servers:
        s.close()
