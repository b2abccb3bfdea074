"""Issue 7 in two real windows with separate homes: one publishes from the builder in one
click, the other finds it in the marketplace, installs it through the consent screen, gets an
update that asks for more (the consent screen shows the difference), and browses offline once
the marketplace is gone. The marketplace is the real `capsmith-market` binary on loopback."""

import json
import os
import shutil
import urllib.request
import subprocess
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from conftest import App, wait_port
from test_library import tid, wait, wait_cards

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target/debug"


def manifest(version: str, permissions: list[str], host: str) -> str:
    return f"""capability:
  id: geo-e2e
  name: Geo Lookup
  icon: "🗺️"
  version: {version}
  description: Finds places by name
  category: Data
  tags: [maps, places]
  permissions: [{", ".join(permissions)}]
  actions:
    - id: find
      inputs: {{ q: {{ type: string, required: true }} }}
      outputs: {{ place: {{ type: string }} }}
  integration:
    type: api
    method: GET
    endpoint: https://{host}/find?q=${{input.q}}
    response_mapping: {{ place: data.place }}
"""


class Market:
    def __init__(self, data: Path):
        self.data = data
        self.proc = subprocess.Popen(
            [str(BIN / "capsmith-market"), "serve", "--data", str(data), "--listen", "127.0.0.1:0", "--seed-examples"],
            stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        assert line.startswith("capsmith-market listening on "), line
        self.url = line.rsplit(" ", 1)[1]

    def user(self, name: str, *flags: str) -> str:
        out = subprocess.run([str(BIN / "capsmith-market"), "user", "add", name, *flags, "--data", str(self.data)],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def post(self, token: str, path: str, body: dict) -> int:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Instance(App):
    """Another app window with a home of its own, through a tauri-driver of its own."""

    def __init__(self, root: Path, name: str, port: int):
        self.home = root / name / "home"
        user_home = root / name / "user"
        user_home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, CAPSMITH_HOME=str(self.home), HOME=str(user_home))
        env.pop("XDG_CONFIG_HOME", None)
        cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
        tauri_driver = shutil.which("tauri-driver") or str(cargo_home / "bin/tauri-driver")
        self.proc = subprocess.Popen([tauri_driver, "--port", str(port), "--native-port", str(port + 1)], env=env)
        wait_port(port)
        super().__init__(f"http://127.0.0.1:{port}")

    def cli(self, *args: str) -> str:
        out = subprocess.run([str(BIN / "capsmith"), "--home", str(self.home), *args], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def close(self):
        self.stop()
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def shoot_on_failure(request, world):
    """A failing step leaves a picture of both windows (target/e2e-screenshots/failed-*.png)."""
    yield
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        for inst in world[1:]:
            if inst.driver is not None:
                inst.screenshot(f"failed-{request.node.name}-{inst.home.parent.name}")


@pytest.fixture(scope="module")
def world():
    root = Path(tempfile.mkdtemp(prefix="capsmith-market-e2e-"))
    market = Market(root / "market")
    a = Instance(root, "publisher", 4450)
    b = Instance(root, "colleague", 4452)
    yield market, a, b
    a.close()
    b.close()
    market.stop()
    shutil.rmtree(root, ignore_errors=True)


def click(d, testid, timeout=15):
    wait(d, timeout).until(EC.element_to_be_clickable((By.CSS_SELECTOR, tid(testid)))).click()


def visible(d, testid, timeout=15):
    return wait(d, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid(testid))))


def sign_in(d, url: str, token: str, name: str):
    click(d, "nav-settings")
    box = visible(d, "market-url")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    box.send_keys(url)
    visible(d, "market-token").send_keys(token)
    click(d, "market-signin")
    wait(d).until(lambda drv: name in visible(drv, "market-account").text)


def test_70_publish_from_the_builder_in_one_click(world):
    market, a, _ = world
    path = a.home.parent / "geo.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(manifest("1.0.0", ["network.http.get"], "geo.example"))
    a.cli("import", str(path))
    d = a.start()
    sign_in(d, market.url, market.user("alice"), "alice")
    click(d, "nav-library")
    wait_cards(d)["geo-e2e"].click()
    click(d, "open-in-builder")
    click(d, "builder-publish-market", timeout=30)
    visible(d, "publish-dialog")
    # Nothing chosen keeps what the marketplace has, and a first version would be private;
    # this one is for everyone.
    assert d.find_element(By.CSS_SELECTOR, tid("publish-visibility-keep")).is_selected()
    click(d, "publish-visibility-public")
    click(d, "publish-confirm")
    result = visible(d, "publish-result", timeout=60)
    assert "geo-e2e@1.0.0" in result.text
    a.screenshot("market-publish")
    a.stop()


def test_71_a_colleague_finds_and_installs_it_with_consent(world):
    market, _, b = world
    d = b.start()
    sign_in(d, market.url, market.user("bob"), "bob")
    click(d, "nav-marketplace")
    search = visible(d, "market-search")
    search.send_keys("geo")
    visible(d, "market-card-geo-e2e", timeout=30)
    wait(d).until(lambda drv: "alice" in visible(drv, "market-card-geo-e2e").get_attribute("textContent"))
    b.screenshot("market-browse")
    click(d, "market-install-geo-e2e")
    visible(d, "consent-dialog")
    perm = visible(d, "consent-permission-network.http.get")
    assert "HTTP GET" in perm.text
    assert "geo.example" in visible(d, "consent-domains").text
    b.screenshot("market-consent")
    click(d, "consent-accept")
    visible(d, "consent-configure", timeout=30)  # installed: on to configuring it
    d.find_element(By.CSS_SELECTOR, "body").send_keys(Keys.ESCAPE)
    wait(d).until(lambda drv: not drv.find_elements(By.CSS_SELECTOR, tid("consent-dialog")))
    visible(d, "market-installed-badge-geo-e2e")
    assert "geo-e2e" in b.cli("list")


def test_72_an_update_that_asks_for_more_shows_the_difference(world):
    market, a, b = world
    path = a.home.parent / "geo-1.1.yaml"
    path.write_text(manifest("1.1.0", ["network.http.get", "network.http.post"], "geo.example"))
    a.cli("import", str(path))
    a.cli("publish", "geo-e2e@1.1.0")
    d = b.driver
    click(d, "market-sync")
    visible(d, "market-update-badge-geo-e2e", timeout=30)
    click(d, "market-card-geo-e2e")
    visible(d, "market-detail")
    click(d, "market-detail-update")
    visible(d, "consent-dialog")
    added = visible(d, "consent-added-network.http.post")
    assert "HTTP POST" in added.text
    b.screenshot("market-update-diff")
    click(d, "consent-accept")
    visible(d, "consent-configure", timeout=30)  # installed: on to configuring it
    d.find_element(By.CSS_SELECTOR, "body").send_keys(Keys.ESCAPE)
    wait(d).until(lambda drv: "1.1.0" in visible(drv, "market-detail-installed").text)
    assert "1.1.0" in b.cli("show", "geo-e2e")


def to_market_list(d):
    """The marketplace's list, from wherever the window is."""
    click(d, "nav-marketplace")
    if d.find_elements(By.CSS_SELECTOR, tid("market-back")):
        click(d, "market-back")
    visible(d, "market-search")


def test_72a_an_id_made_here_is_not_taken_over_without_asking(world):
    market, a, b = world
    # bob made a `notes-e2e` of his own; alice publishes one with the same id.
    mine = b.home.parent / "notes-mine.yaml"
    mine.write_text(manifest("0.1.0", ["network.http.get"], "127.0.0.1").replace("geo-e2e", "notes-e2e"))
    b.cli("import", str(mine))
    theirs = a.home.parent / "notes-theirs.yaml"
    theirs.write_text(manifest("1.0.0", ["network.http.get"], "notes.example").replace("geo-e2e", "notes-e2e"))
    a.cli("import", str(theirs))
    a.cli("publish", "notes-e2e@1.0.0", "--visibility", "public")
    d = b.driver
    to_market_list(d)
    click(d, "market-sync")
    search = visible(d, "market-search")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys("notes")
    click(d, "market-install-notes-e2e", timeout=30)
    visible(d, "consent-dialog")
    warning = visible(d, "consent-id-taken")
    assert "made or imported here" in warning.text
    accept = visible(d, "consent-accept")
    assert not accept.is_enabled(), "a stranger's package does not replace bob's without asking"
    b.screenshot("market-id-taken")
    click(d, "consent-replace")
    wait(d).until(lambda drv: visible(drv, "consent-accept").is_enabled())
    click(d, "consent-accept")
    visible(d, "consent-configure", timeout=30)
    d.find_element(By.CSS_SELECTOR, "body").send_keys(Keys.ESCAPE)
    wait(d).until(lambda drv: not drv.find_elements(By.CSS_SELECTOR, tid("consent-dialog")))
    shown = b.cli("show", "notes-e2e")
    assert "1.0.0" in shown and "0.1.0" not in shown


def test_72b_a_revoked_version_says_why_and_does_not_run(world):
    market, _, b = world
    root = market.user("root", "--admin")
    assert market.post(root, "/v1/capabilities/geo-e2e/versions/1.1.0/revoke",
                       {"reason": "leaks the query to a third party"}) == 204
    d = b.driver
    to_market_list(d)
    click(d, "market-sync")
    search = visible(d, "market-search")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys("geo")
    click(d, "market-card-geo-e2e", timeout=30)
    banner = visible(d, "market-detail-revoked", timeout=30)
    assert "leaks the query to a third party" in banner.text
    b.screenshot("market-revoked")
    # Run it by hand: refused before anything goes out, with the reason.
    click(d, "nav-library")
    wait_cards(d)["geo-e2e"].click()
    click(d, "tab-run")
    q = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="run-input"][data-name="q"]')))
    q.send_keys("Paris")
    click(d, "run-button")
    panel = visible(d, "run-consent", timeout=30)
    assert "leaks the query to a third party" in panel.text
    assert not d.find_elements(By.CSS_SELECTOR, tid("run-consent-allow"))
    b.screenshot("run-revoked")
    to_market_list(d)
    click(d, "market-card-geo-e2e")  # the next step starts from the detail page
    visible(d, "market-detail")


def test_73_with_the_marketplace_gone_browsing_goes_on_from_the_cache(world):
    market, _, b = world
    market.stop()
    d = b.driver
    click(d, "market-back")
    click(d, "market-sync")
    offline = visible(d, "market-offline", timeout=30)
    assert "Offline" in offline.text
    visible(d, "market-card-geo-e2e")
    click(d, "market-card-geo-e2e")
    visible(d, "market-detail-offline", timeout=30)
    b.screenshot("market-offline")
