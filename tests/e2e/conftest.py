"""Drives the real Capsmith window: tauri-driver (WebDriver) → WebKitWebDriver → the built app.

Run through scripts/test (which builds the app and starts Xvfb and a D-Bus session); the app
binary is CAPSMITH_APP_BIN, the library home a fresh temporary CAPSMITH_HOME per test run.
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.file_detector import UselessFileDetector
from urllib3.exceptions import ProtocolError

ROOT = Path(__file__).resolve().parents[2]
APP_BIN = Path(os.environ.get("CAPSMITH_APP_BIN", ROOT / "target/debug/capsmith-app"))
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", ROOT / "target/e2e-screenshots"))
DRIVER_PORT = 4444


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"tauri-driver did not listen on {port}")


@pytest.fixture(scope="session")
def home():
    d = Path(tempfile.mkdtemp(prefix="capsmith-e2e-"))
    yield d / "home"
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def driver_server(home):
    assert APP_BIN.exists(), f"build the app first: {APP_BIN}"
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    tauri_driver = shutil.which("tauri-driver") or str(cargo_home / "bin/tauri-driver")
    # A HOME of its own: no user-dirs, no ~/Downloads, so exports land in CAPSMITH_HOME/exports
    # and nothing touches the real user's files.
    user_home = home.parent / "user"
    user_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CAPSMITH_HOME=str(home), HOME=str(user_home))
    env.pop("XDG_CONFIG_HOME", None)
    proc = subprocess.Popen([tauri_driver, "--port", str(DRIVER_PORT)], env=env)
    try:
        wait_port(DRIVER_PORT)
        yield f"http://127.0.0.1:{DRIVER_PORT}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class App:
    """Starts (and restarts) the app as a WebDriver session."""

    def __init__(self, url: str):
        self.url = url
        self.driver = None

    def start(self):
        opts = ArgOptions()
        opts.set_capability("tauri:options", {"application": str(APP_BIN)})
        opts.set_capability("browserName", "wry")
        # tauri-driver starts WebKitWebDriver for the session; when that start is cut short the
        # connection closes without an answer (seen once in CI). Try again before giving up.
        for attempt in range(3):
            try:
                self.driver = webdriver.Remote(command_executor=self.url, options=opts)
                break
            except (ProtocolError, ConnectionError) as e:
                if attempt == 2:
                    raise
                print(f"WebDriver session did not start ({e}); trying again")
                time.sleep(2)
        self.driver.implicitly_wait(0)
        # The app runs on this machine: send file paths as they are, not through Selenium
        # Grid's upload endpoint (which WebKitWebDriver does not have).
        self.driver.file_detector = UselessFileDetector()
        return self.driver

    def stop(self):
        if self.driver is not None:
            self.driver.quit()
            self.driver = None

    def restart(self):
        self.stop()
        return self.start()

    def screenshot(self, name: str):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="session")
def app(driver_server):
    a = App(driver_server)
    a.start()
    yield a
    a.stop()


class WeatherStandIn(BaseHTTPRequestHandler):
    """A weather API on loopback (`GET /v1/current?location=…` with `Bearer e2e-weather-key`)
    and a Slack-like one (`POST /api/chat.postMessage` with `Bearer xoxb-e2e`)."""

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.startswith("/api/chat.postMessage"):
            self._reply(404, {"error": "no such route"})
        elif self.headers.get("Authorization") != "Bearer xoxb-e2e":
            self._reply(200, {"ok": False, "error": "invalid_auth"})
        else:
            self._reply(200, {"ok": True, "channel": body.get("channel"), "message": {"text": body.get("text")}})

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.startswith("/api/customers/"):
            # The design's CRM (the builder's Customer Lookup), behind `X-Api-Key: e2e-crm-key`.
            if self.headers.get("X-Api-Key") != "e2e-crm-key":
                self._reply(401, {"error": "bad key"})
            elif self.path == "/api/customers/c-42":
                self._reply(200, {"id": "c-42", "name": "Ada Lovelace", "email": "ada@example.com"})
            else:
                self._reply(404, {"error": "no such customer"})
        elif not self.path.startswith("/v1/current"):
            self._reply(404, {"error": "no such route"})
        elif self.headers.get("Authorization") != "Bearer e2e-weather-key":
            self._reply(401, {"error": "bad key"})
        else:
            self._reply(200, {"data": {"temp": 72, "weather": [{"main": "Sunny"}], "main": {"humidity": 45}}})

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def weather_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), WeatherStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
