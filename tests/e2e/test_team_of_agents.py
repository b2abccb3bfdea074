"""Issue 6 (begun) in the real window: create an agent, add a capability after consenting to
its permissions, run one of its actions, and remove it again. Runs after the library and
builder journeys (file order); it adds no capability to the library."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_library import tid, wait
from test_run_builder import click, el, select, type_into


def test_40_an_agent_gets_a_capability_with_consent_and_runs_it(app):
    d = app.driver
    click(d, "nav-agents")
    type_into(d, "agent-new-name", "Support Bot")
    type_into(d, "agent-new-description", "Answers with tidy text")
    click(d, "agent-create")
    el(d, "agent-support-bot")
    detail = el(d, "agent-detail")
    assert detail.get_attribute("data-id") == "support-bot"

    select(d, "agent-add-select", "text-toolkit")
    click(d, "agent-add")
    consent = el(d, "agent-consent")
    asked = [p.get_attribute("data-name") for p in consent.find_elements(By.CSS_SELECTOR, tid("agent-consent-permission"))]
    assert "compute.light" in asked, asked
    app.screenshot("agents-consent")
    click(d, "agent-consent-allow")
    row = el(d, "agent-capability-text-toolkit")
    actions = [a.text for a in row.find_elements(By.CSS_SELECTOR, tid("agent-capability-action"))]
    assert "text-toolkit.wordCount" in actions, actions

    select(d, "agent-run-action", "text-toolkit.wordCount")
    box = el(d, "agent-run-input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    box.send_keys('{"text": "one two three"}')
    click(d, "agent-run")
    wait(d, 30).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, tid("agent-run-result")) and drv.find_element(By.CSS_SELECTOR, tid("agent-run-result")).get_attribute("data-ok") == "true")
    assert '"words": 3' in el(d, "agent-run-result").text
    app.screenshot("agents")

    click(d, "agent-remove-text-toolkit")
    wait(d).until(lambda drv: not drv.find_elements(By.CSS_SELECTOR, tid("agent-capability-text-toolkit")))
    click(d, "nav-library")
