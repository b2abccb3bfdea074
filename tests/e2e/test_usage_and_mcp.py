"""Issue 6 in the real window: an agent's MCP panel (the client snippet and the tools, which
follow the enabled switch live), its monthly budget, and the Activity page's usage charts
from the core's stats. Runs after the other journeys (file order)."""

from selenium.webdriver.common.by import By

from test_library import tid, wait
from test_run_builder import click, el, select, type_into


def mcp_names(d):
    return [t.get_attribute("data-mcp-name") for t in d.find_elements(By.CSS_SELECTOR, tid("mcp-tool"))]


def test_50_the_mcp_panel_follows_the_agent_and_usage_is_charted(app):
    d = app.driver
    click(d, "nav-agents")
    type_into(d, "agent-new-name", "Writer")
    click(d, "agent-create")
    el(d, "agent-writer")
    select(d, "agent-add-select", "text-toolkit")
    click(d, "agent-add")
    click(d, "agent-consent-allow")
    el(d, "agent-capability-text-toolkit")

    snippet = el(d, "mcp-snippet").text
    assert '"mcp", "serve", "--agent", "writer"' in snippet.replace("\n", "").replace("  ", " ") or '"writer"' in snippet, snippet
    wait(d).until(lambda drv: "text-toolkit__slugify" in mcp_names(drv))
    assert el(d, "mcp-http-url").text == "http://127.0.0.1:8765/mcp"

    # Switched off: the agent's tools are gone at once; back on, back again.
    click(d, "agent-cap-enabled")
    el(d, "mcp-tools-empty")
    click(d, "agent-cap-enabled")
    wait(d).until(lambda drv: "text-toolkit__slugify" in mcp_names(drv))

    # A budget, then a run that the usage figures count.
    type_into(d, "agent-budget-input", "5")
    click(d, "agent-budget-save")
    el(d, "agent-budget-saved")
    select(d, "agent-run-action", "text-toolkit.slugify")
    type_into(d, "agent-run-input", '{"text": "Hello MCP"}')
    click(d, "agent-run")
    wait(d, 30).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, tid("agent-run-result")) and drv.find_element(By.CSS_SELECTOR, tid("agent-run-result")).get_attribute("data-ok") == "true")
    wait(d).until(lambda drv: "5" in drv.find_element(By.CSS_SELECTOR, tid("agent-budget-spent")).text)
    d.execute_script("arguments[0].scrollIntoView({block: 'start'})", el(d, "mcp-panel"))
    app.screenshot("agents-mcp")

    click(d, "nav-activity")
    el(d, "usage-section")
    select(d, "usage-scope", "agent:writer")
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, tid("usage-kpi-runs")).text.split()[0:1] != [] and "1" in drv.find_element(By.CSS_SELECTOR, tid("usage-kpi-runs")).text)
    assert "100" in el(d, "usage-kpi-success").text
    # The charts are drawn by the chart library (SVG), not empty boxes.
    wait(d).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, tid("usage-chart-runs") + " .recharts-bar-rectangle path"))
    wait(d).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, tid("usage-chart-duration") + " .recharts-line-dots circle"))
    el(d, "usage-budget")
    select(d, "usage-scope", "all")
    wait(d).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, tid("usage-capability-row")))
    app.screenshot("usage")
