"""The foundation journey in the real window: the seeded library, an invalid upload with a
located report, a valid upload saved, the app restarted, the capability still there."""

import time
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def tid(name: str) -> str:
    return f'[data-testid="{name}"]'


def wait(driver, timeout: float = 15):
    # Lists re-render when they reload: an element read mid-render is simply read again.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def cards(driver):
    for _ in range(5):
        try:
            return {c.get_attribute("data-id"): c for c in driver.find_elements(By.CSS_SELECTOR, tid("capability-card"))}
        except StaleElementReferenceException:
            time.sleep(0.1)  # the list re-rendered while it was read: read it again
    return {c.get_attribute("data-id"): c for c in driver.find_elements(By.CSS_SELECTOR, tid("capability-card"))}


def wait_cards(driver):
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, tid("capability-card"))) > 0)
    return cards(driver)


def open_upload(driver):
    driver.find_element(By.CSS_SELECTOR, tid("upload-button")).click()
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, tid("upload-input"))))


def upload(driver, path: Path):
    open_upload(driver).send_keys(str(path))
    return wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("validation-report"))))


def test_01_opens_on_seeded_library(app):
    d = app.driver
    found = wait_cards(d)
    app.screenshot("library")
    for cid in ["weather-lookup", "slack-integration", "invoice-processor", "data-analyzer"]:
        assert cid in found, f"{cid} missing from {sorted(found)}"
    assert "custom-db-query" not in found
    assert "Weather Information" in found["weather-lookup"].get_attribute("textContent")


def test_02_invalid_upload_shows_located_findings(app):
    d = app.driver
    report = upload(d, FIXTURES / "invalid" / "many-problems.yaml")
    status = report.find_element(By.CSS_SELECTOR, tid("report-status")).text
    assert "Invalid" in status
    findings = report.find_elements(By.CSS_SELECTOR, tid("finding"))
    by_code = {f.get_attribute("data-code"): f for f in findings}
    assert {"bad-id", "invalid-version", "duplicate-action-id", "bad-scheme", "header-crlf", "unknown-permission"} <= set(by_code)
    bad_id = by_code["bad-id"].text
    assert "capability.id" in bad_id and "line 3" in bad_id, bad_id
    assert "did you mean" in by_code["unknown-permission"].text
    assert not d.find_element(By.CSS_SELECTOR, tid("save-capability")).is_enabled()
    app.screenshot("upload-invalid")
    d.find_element(By.CSS_SELECTOR, "body").send_keys(Keys.ESCAPE)
    wait(d).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, tid("validation-report"))))
    assert "broken-weather" not in cards(d)


def test_03_valid_upload_is_saved(app):
    d = app.driver
    report = upload(d, FIXTURES / "valid" / "e2e-echo.yaml")
    assert "Valid" in report.find_element(By.CSS_SELECTOR, tid("report-status")).text
    codes = {f.get_attribute("data-code") for f in report.find_elements(By.CSS_SELECTOR, tid("finding"))}
    assert "requires-secret" in codes, codes
    app.screenshot("upload-valid")
    save = d.find_element(By.CSS_SELECTOR, tid("save-capability"))
    assert save.is_enabled()
    save.click()
    toast = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("toast"))))
    assert "e2e-echo@1.4.2" in toast.text
    wait(d).until(lambda drv: "e2e-echo" in cards(drv))


def test_04_capability_survives_a_restart(app):
    d = app.restart()
    found = wait_cards(d)
    assert "e2e-echo" in found
    found["e2e-echo"].click()
    detail = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("capability-detail"))))
    # The detail frame shows before its content has loaded: wait for the content.
    name = wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("detail-name"))))
    assert "Echo Service" in name.text
    assert "1.4.2" in wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("detail-version")))).text
    detail = d.find_element(By.CSS_SELECTOR, tid("capability-detail"))
    actions = detail.find_elements(By.CSS_SELECTOR, tid("action"))
    assert any("message" in a.text for a in actions)
    app.screenshot("detail")
    detail.find_element(By.CSS_SELECTOR, tid("tab-permissions")).click()
    perms = [p.text for p in d.find_elements(By.CSS_SELECTOR, tid("permission"))]
    assert any("network.http.post" in p for p in perms), perms
    d.find_element(By.CSS_SELECTOR, tid("export-yaml")).click()
    wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("toast"))))
    wait(d).until(lambda drv: "Exported to" in drv.find_element(By.CSS_SELECTOR, tid("toast")).text)
    toast_text = d.find_element(By.CSS_SELECTOR, tid("toast")).text
    path = Path(toast_text.split("Exported to", 1)[1].split("\n")[0].strip().rstrip("✕").strip())
    assert path.name == "e2e-echo-1.4.2.yaml", path
    assert "id: e2e-echo" in path.read_text()
    d.find_element(By.CSS_SELECTOR, tid("back")).click()
    wait_cards(d)


def set_search(driver, text: str):
    box = driver.find_element(By.CSS_SELECTOR, tid("search"))
    # Keystrokes, not clear(): React only hears input events.
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


def test_05_search_filters_the_library(app):
    d = app.driver
    set_search(d, "echo")
    wait(d).until(lambda drv: set(cards(drv)) == {"e2e-echo"})
    set_search(d, "zzznothing")
    wait(d).until(EC.visibility_of_element_located((By.CSS_SELECTOR, tid("no-results"))))
    set_search(d, "")
    wait(d).until(lambda drv: len(cards(drv)) > 5)


def test_06_slash_focuses_search_and_ctrl_u_opens_upload(app):
    d = app.driver
    d.find_element(By.CSS_SELECTOR, "body").send_keys("/")
    assert d.switch_to.active_element.get_attribute("data-testid") == "search"
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    d.find_element(By.CSS_SELECTOR, "body").send_keys(Keys.CONTROL, "u")
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, tid("upload-dialog"))))
    d.find_element(By.CSS_SELECTOR, "body").send_keys(Keys.ESCAPE)
    wait(d).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, tid("upload-dialog"))))
