"""Issue 3 in the real window: upload the design's weather capability pointed at the loopback
stand-in, enter its API key (kept in the Secret Service), see the run refused until this one
capability is allowed to reach the stand-in (its Configure tab; Settings no longer allows hosts
for every capability), run the action from a generated form, run its test, and read the audit
log. The Slack connector is allowed from its refused run's result instead."""

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from test_library import FIXTURES, cards, tid, upload, wait, wait_cards

ROOT = Path(__file__).resolve().parents[2]


def click(d, testid):
    wait(d).until(EC.element_to_be_clickable((By.CSS_SELECTOR, tid(testid)))).click()


def test_10_settings_no_longer_allow_hosts_for_every_capability(app):
    d = app.driver
    click(d, "nav-settings")
    section = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("settings-section-network"))))
    # The section has loaded its rows: the one list of hosts for every capability is gone.
    wait(d).until(lambda drv: section.find_elements(By.CSS_SELECTOR, '[data-testid="setting-row"][data-key="network.timeout_ms"]'))
    assert not d.find_elements(By.CSS_SELECTOR, '[data-testid="setting-row"][data-key="network.allow_hosts"]')


def test_11_upload_configure_run_test(app, weather_api, tmp_path):
    d = app.driver
    manifest = (ROOT / "assets/examples/weather-lookup.yaml").read_text()
    manifest = manifest.replace("https://api.weather.com", f"http://127.0.0.1:{weather_api}").replace('"weather-lookup"', '"weather-e2e"')
    path = tmp_path / "weather-e2e.yaml"
    path.write_text(manifest)
    click(d, "nav-library")
    wait_cards(d)
    report = upload(d, path)
    assert "Valid" in report.find_element(By.CSS_SELECTOR, tid("report-status")).text
    d.find_element(By.CSS_SELECTOR, tid("save-capability")).click()
    wait(d).until(lambda drv: "weather-e2e" in cards(drv))
    cards(d)["weather-e2e"].click()
    wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("capability-detail"))))

    # Running before the key is set says what is missing.
    click(d, "tab-run")
    loc = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="run-input"][data-name="location"]')))
    loc.send_keys("Paris")
    click(d, "run-button")
    result = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("run-result"))))
    assert result.get_attribute("data-ok") == "false"
    assert "missing_config" in result.find_element(By.CSS_SELECTOR, tid("run-error-kind")).text

    # The key goes to the keyring; the row says it is set, never what it is.
    click(d, "tab-configure")
    row = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="config-row"][data-key="API_KEY"]')))
    assert row.find_element(By.CSS_SELECTOR, tid("config-status")).text == "Not set"
    row.find_element(By.CSS_SELECTOR, tid("config-input")).send_keys("e2e-weather-key")
    row.find_element(By.CSS_SELECTOR, tid("config-save")).click()
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, '[data-testid="config-row"][data-key="API_KEY"] [data-testid="config-status"]').text == "Set")
    assert "e2e-weather-key" not in d.page_source

    # The stand-in is on loopback: the guard refuses it until this capability may reach it, and
    # the result offers exactly the HOST:PORT it was refused.
    stand_in = f"127.0.0.1:{weather_api}"
    click(d, "tab-run")
    click(d, "run-button")
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, tid("run-error-kind")).text == "private_address")
    assert d.find_element(By.CSS_SELECTOR, tid("run-result")).get_attribute("data-ok") == "false"
    offer = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("run-allow-host"))))
    assert offer.get_attribute("data-host") == stand_in, offer.get_attribute("data-host")

    # Allowed on the Configure tab instead (the Slack connector below uses the button). What is
    # not a HOST:PORT is refused under the input; Enter submits.
    click(d, "tab-configure")
    wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("allowed-hosts-empty"))))
    box = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("allowed-host-input"))))
    box.send_keys("not a host")
    click(d, "allowed-host-add")
    refused = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("allowed-host-error"))))
    assert refused.get_attribute("data-kind") == "invalid_argument", refused.text
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    box.send_keys(stand_in)
    box.send_keys(Keys.ENTER)
    wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="allowed-host"][data-host="{stand_in}"]')))
    assert not d.find_elements(By.CSS_SELECTOR, tid("allowed-host-error"))
    assert not d.find_elements(By.CSS_SELECTOR, tid("allowed-hosts-empty"))

    click(d, "tab-run")
    click(d, "run-button")
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, tid("run-result")).get_attribute("data-ok") == "true")
    output = d.find_element(By.CSS_SELECTOR, tid("run-output")).text
    assert '"temperature": 72' in output and '"condition": "Sunny"' in output, output
    assert d.find_elements(By.CSS_SELECTOR, tid("run-call"))
    app.screenshot("run")

    click(d, "tab-tests")
    click(d, "run-tests")
    summary = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("test-summary"))))
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, tid("test-summary")).text == "1 passed, 0 failed")
    assert summary.text == "1 passed, 0 failed"
    app.screenshot("tests")

    click(d, "tab-activity")
    wait(d).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, tid("activity-row"))) >= 4)
    statuses = [r.get_attribute("data-status") for r in d.find_elements(By.CSS_SELECTOR, tid("activity-row"))]
    # Newest first: the test, the run, the guard's refusal (a security violation), the missing key.
    assert statuses[:4] == ["ok", "ok", "denied", "error"], statuses


def test_12_guard_refusal_shows_in_the_run_panel(app):
    d = app.driver
    click(d, "nav-library")
    wait_cards(d)
    cards(d)["currency-converter"].click()
    click(d, "tab-run")
    for name, value in [("amount", "10"), ("from", "EUR"), ("to", "USD")]:
        d.find_element(By.CSS_SELECTOR, f'[data-testid="run-input"][data-name="{name}"]').send_keys(value)
    click(d, "run-button")
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, tid("run-result")).get_attribute("data-ok") == "false")
    # No network here: the public API cannot be reached; the failure is reported, not a crash.
    kind = d.find_element(By.CSS_SELECTOR, tid("run-error-kind")).text
    assert kind, "an error kind is shown"
    click(d, "nav-activity")
    wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("activity-chart"))))
    assert len(d.find_elements(By.CSS_SELECTOR, tid("chart-bar"))) >= 4
    app.screenshot("activity")


def test_13_publish_runs_the_tests_first(app):
    d = app.driver
    click(d, "nav-library")
    wait_cards(d)
    assert "Draft" in cards(d)["weather-e2e"].get_attribute("textContent")
    cards(d)["weather-e2e"].click()
    click(d, "publish")
    wait(d).until(lambda drv: not drv.find_elements(By.CSS_SELECTOR, tid("publish")))
    assert not d.find_elements(By.CSS_SELECTOR, tid("publish-error"))
    click(d, "back")
    wait(d).until(lambda drv: "Published" in cards(drv)["weather-e2e"].get_attribute("textContent"))


def test_14_connect_an_api_from_an_openapi_document(app):
    d = app.driver
    click(d, "nav-library")
    wait_cards(d)
    click(d, "connect-api-button")
    dialog = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("connect-api-dialog"))))
    dialog.find_element(By.CSS_SELECTOR, tid("openapi-file")).send_keys(str(FIXTURES / "openapi" / "petstore.yaml"))
    dialog.find_element(By.CSS_SELECTOR, tid("openapi-id")).send_keys("petstore-e2e")
    dialog.find_element(By.CSS_SELECTOR, tid("openapi-import")).click()
    wait(d).until(lambda drv: "petstore-e2e" in cards(drv))
    cards(d)["petstore-e2e"].click()
    actions = wait(d).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, tid("action")))
    assert len(actions) == 5
    assert any("list-pets" in a.text for a in actions)


def test_15_slack_connector_with_its_token_in_the_keyring(app, weather_api, tmp_path):
    d = app.driver
    text = (ROOT / "assets/examples/slack-integration.json").read_text()
    text = text.replace('https://slack.com/api"', f'http://127.0.0.1:{weather_api}/api"').replace('"slack-integration"', '"slack-e2e"')
    path = tmp_path / "slack-e2e.json"
    path.write_text(text)
    click(d, "nav-library")
    wait_cards(d)
    report = upload(d, path)
    assert "Valid" in report.find_element(By.CSS_SELECTOR, tid("report-status")).text
    d.find_element(By.CSS_SELECTOR, tid("save-capability")).click()
    wait(d).until(lambda drv: "slack-e2e" in cards(drv))
    cards(d)["slack-e2e"].click()
    click(d, "tab-configure")
    assert d.find_elements(By.CSS_SELECTOR, tid("oauth-connect")), "OAuth2 connectors offer Connect"
    row = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="config-row"][data-key="OAUTH2_ACCESS_TOKEN"]')))
    row.find_element(By.CSS_SELECTOR, tid("config-input")).send_keys("xoxb-e2e")
    row.find_element(By.CSS_SELECTOR, tid("config-save")).click()
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, '[data-testid="config-row"][data-key="OAUTH2_ACCESS_TOKEN"] [data-testid="config-status"]').text == "Set")
    click(d, "tab-run")
    for name, value in [("channel", "C1"), ("message", "hello from the app")]:
        wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="run-input"][data-name="{name}"]'))).send_keys(value)
    # Allowing the stand-in for weather-e2e did not allow it for this capability: refused, and
    # allowed from the result this time.
    stand_in = f"127.0.0.1:{weather_api}"
    click(d, "run-button")
    wait(d).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, tid("run-result")) and drv.find_element(By.CSS_SELECTOR, tid("run-result")).get_attribute("data-ok") == "false")
    assert d.find_element(By.CSS_SELECTOR, tid("run-error-kind")).text == "private_address"
    offer = wait(d).until(EC.element_to_be_clickable((By.CSS_SELECTOR, tid("run-allow-host"))))
    assert offer.get_attribute("data-host") == stand_in, offer.get_attribute("data-host")
    assert stand_in in offer.text, offer.text
    offer.click()
    done = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("run-allow-host-done"))))
    assert stand_in in done.text and "run again" in done.text, done.text
    click(d, "run-button")
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, tid("run-result")).get_attribute("data-ok") == "true")
    out = d.find_element(By.CSS_SELECTOR, tid("run-output")).text
    assert '"ok": true' in out and "hello from the app" in out, out
    assert "xoxb-e2e" not in d.page_source

    # The grant shows on the Configure tab, and goes from there.
    click(d, "tab-configure")
    granted = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="allowed-host"][data-host="{stand_in}"]')))
    granted.find_element(By.CSS_SELECTOR, tid("allowed-host-remove")).click()
    wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("allowed-hosts-empty"))))


def test_16_editor_marks_a_syntax_error_as_you_type(app):
    d = app.driver
    click(d, "nav-library")
    wait_cards(d)
    cards(d)["data-analyzer"].click()
    click(d, "tab-edit")
    status = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("edit-status"))))
    wait(d).until(lambda drv: "Valid" in drv.find_element(By.CSS_SELECTOR, tid("edit-status")).text)
    content = wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="code-editor"] .cm-content')))
    content.click()
    content.send_keys(Keys.CONTROL, Keys.END)
    content.send_keys("\nconst broken = ;")
    wait(d).until(lambda drv: "error" in drv.find_element(By.CSS_SELECTOR, tid("edit-status")).text)
    assert d.find_elements(By.CSS_SELECTOR, ".cm-lintRange-error"), "the error is marked in the editor"
    assert not d.find_element(By.CSS_SELECTOR, tid("edit-save")).is_enabled()
    app.screenshot("edit")
    assert status is not None
