"""Workflows in the real window: a secret setting goes to the keyring, the app's trigger service
serves a webhook workflow (imported meanwhile by the CLI: live without a restart), its runs show
in the capability's Runs tab, and a file_upload workflow runs on a file path, fails at the step
that needs what is not set up, and offers Resume. Runs after the other journeys (file order)."""

import json
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from selenium.webdriver.common.by import By

from test_library import cards, tid, wait, wait_cards
from test_run_builder import click, el, select, type_into

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "target" / "debug" / "capsmith"

HOOK = """capability:
  id: greeter-hook
  name: Greeter hook
  version: 1.0.0
  type: workflow
  workflow:
    trigger: webhook
    steps:
      - id: greet
        action: transform.map
        input: "${trigger.body}"
        mapping: { greeting: "${trigger.body.name}" }
  permissions: [compute.light]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setting_row(d, key):
    return wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, f'[data-testid="setting-row"][data-key="{key}"]'))


def test_60_secret_settings_triggers_and_workflow_runs(app, home, tmp_path):
    d = app.driver
    click(d, "nav-settings")
    for section in ["network", "ai", "email", "knowledge", "triggers"]:
        el(d, f"settings-section-{section}")

    # A secret setting: never shown back, only whether it is set.
    row = setting_row(d, "ai.api_key")
    box = row.find_element(By.CSS_SELECTOR, tid("setting-input"))
    assert box.get_attribute("type") == "password" and box.get_attribute("value") == ""
    box.send_keys("sk-e2e-secret-123")
    row.find_element(By.CSS_SELECTOR, tid("setting-save")).click()
    wait(d).until(lambda drv: setting_row(drv, "ai.api_key").find_element(By.CSS_SELECTOR, tid("setting-value")).get_attribute("data-set") == "true")
    assert "sk-e2e-secret-123" not in d.page_source

    # The CLI imports a webhook workflow while the app runs; the app serves it at once.
    manifest = tmp_path / "hook.yaml"
    manifest.write_text(HOOK)
    subprocess.run([str(CLI), "--home", str(home), "import", str(manifest)], check=True, capture_output=True)
    port = free_port()
    type_into(d, "triggers-listen", f"127.0.0.1:{port}")
    click(d, "triggers-start")
    url = f"http://127.0.0.1:{port}/hooks/greeter-hook"
    wait(d, 20).until(lambda drv: any(url in w.text for w in drv.find_elements(By.CSS_SELECTOR, tid("triggers-webhook"))))
    hook = d.find_element(By.CSS_SELECTOR, '[data-testid="triggers-webhook"][data-workflow="greeter-hook"]')
    # The webhook's secret is hidden until asked for; without it the request is refused.
    secret_box = hook.find_element(By.CSS_SELECTOR, tid("triggers-webhook-secret"))
    assert secret_box.get_attribute("data-shown") == "false" and "•" in secret_box.text
    body = json.dumps({"name": "Ada"}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        urllib.request.urlopen(req, timeout=30)
        raise AssertionError("a webhook call without its secret was let through")
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code
    hook.find_element(By.CSS_SELECTOR, tid("triggers-webhook-secret-toggle")).click()
    secret = wait(d).until(lambda drv: hook.find_element(By.CSS_SELECTOR, tid("triggers-webhook-secret")).text.strip().strip("•") or None)
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read()) == {"greeting": "Ada"}
    hook.find_element(By.CSS_SELECTOR, tid("triggers-webhook-secret-toggle")).click()
    d.execute_script("arguments[0].scrollIntoView({block: 'start'})", el(d, "settings-section-triggers"))
    app.screenshot("triggers")

    click(d, "nav-library")
    wait_cards(d)
    wait(d).until(lambda drv: "greeter-hook" in cards(drv))
    cards(d)["greeter-hook"].click()
    click(d, "tab-runs")
    run = wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, tid("workflow-run")))
    assert run.get_attribute("data-status") == "ok"

    # The invoice workflow on the bundled sample: the text comes out, the AI endpoint is not set.
    click(d, "nav-library")
    wait_cards(d)
    cards(d)["invoice-processor"].click()
    click(d, "tab-runs")
    type_into(d, "workflow-upload-path", str(ROOT / "assets/samples/invoice-2026-0042.pdf"))
    click(d, "workflow-upload")
    failed = wait(d, 30).until(lambda drv: [r for r in drv.find_elements(By.CSS_SELECTOR, tid("workflow-run")) if r.get_attribute("data-status") == "error"])
    steps = {s.get_attribute("data-step"): s.get_attribute("data-status") for s in failed[0].find_elements(By.CSS_SELECTOR, tid("workflow-run-step"))}
    assert steps.get("extract") == "ok" and steps.get("analyze") == "error", steps
    assert failed[0].find_elements(By.CSS_SELECTOR, tid("workflow-resume"))
    assert "AI endpoint is not set up" in failed[0].text
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", failed[0])
    app.screenshot("workflow-runs")

    click(d, "nav-settings")
    click(d, "triggers-stop")
    wait(d).until(lambda drv: not drv.find_elements(By.CSS_SELECTOR, tid("triggers-listening")))


def test_61_an_agent_keeps_its_own_secret_for_a_capability(app, home):
    d = app.driver
    click(d, "nav-agents")
    type_into(d, "agent-new-name", "Forecaster")
    click(d, "agent-create")
    el(d, "agent-forecaster")
    select(d, "agent-add-select", "weather-e2e")
    click(d, "agent-add")
    click(d, "agent-consent-allow")
    el(d, "agent-capability-weather-e2e")
    click(d, "agent-config-toggle")
    panel = el(d, "agent-config")
    assert panel.get_attribute("data-capability") == "weather-e2e"
    row = wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, '[data-testid="agent-config-row"][data-key="API_KEY"]'))
    assert row.get_attribute("data-set") == "false"
    box = row.find_element(By.CSS_SELECTOR, tid("agent-config-input"))
    assert box.get_attribute("value") == ""
    box.send_keys("forecaster-only-key-42")
    row.find_element(By.CSS_SELECTOR, tid("agent-config-save")).click()
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, '[data-testid="agent-config-row"][data-key="API_KEY"]').get_attribute("data-set") == "true")
    assert "forecaster-only-key-42" not in d.page_source
    app.screenshot("agent-config")
    # The core agrees: the agent has its own secret, kept out of the registry.
    out = subprocess.run([str(CLI), "--home", str(home), "agent", "config", "forecaster", "weather-e2e", "--json"], check=True, capture_output=True, text=True)
    assert {e["key"]: e["set"] for e in json.loads(out.stdout)}["API_KEY"] is True
    assert b"forecaster-only-key-42" not in (home / "registry.sqlite3").read_bytes()
