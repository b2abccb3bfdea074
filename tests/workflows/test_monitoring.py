"""Monitoring, cost and budgets through the CLI: an agent runs the invoice workflow (the AI
stand-in reports token usage), the user prices the capability, and the agent's monthly budget
stops further paid calls with a clear error; `capsmith stats` shows what happened."""
import json
import re
import shutil

from workflow_support import capsmith
from make_invoice_pdf import invoice_pdf


def uploaded(home, tmp, name):
    """A file as the uploads folder holds it, described the way the trigger does."""
    src = tmp / name
    src.write_bytes(invoice_pdf("INV-1", "Tailspin Toys", "2026-11-01", "10.00"))
    dest = home / "uploads" / "t" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dest)
    return {"file": {"name": name, "type": "pdf", "path": str(dest)}}


def test_cost_is_counted_and_the_budget_blocks_paid_calls(setup):
    home, ai, inbox, tmp = setup
    capsmith(home, "agent", "create", "clerk")
    capsmith(home, "agent", "add", "clerk", "invoice-processor", "--yes")
    capsmith(home, "cost", "invoice-processor", "--per-call", "0.01", "--per-1k-tokens", "2")
    capsmith(home, "agent", "budget", "clerk", "0.2")
    payload = json.dumps(uploaded(home, tmp, "invoice-a.pdf"))

    costs = []
    for _ in range(2):
        p = capsmith(home, "agent", "run", "clerk", "invoice-processor.process", "--input", payload, "--json")
        assert json.loads(p.stdout)["ok"] is True
        s = json.loads(capsmith(home, "stats", "--agent", "clerk", "--json").stdout)
        costs.append(s["totals"]["cost"])
    # Each run: 0.01 + 2 per 1000 of the tokens the stand-in reported.
    tokens = [r["body"] for r in ai.requests]
    assert len(tokens) == 2
    per_run = costs[0]
    assert per_run > 0.01 and abs(costs[1] - 2 * per_run) < 1e-9, costs

    # Past the budget: refused before anything runs, with the figures.
    assert costs[1] >= 0.2, costs
    p = capsmith(home, "agent", "run", "clerk", "invoice-processor.process", "--input", payload, "--json", check=False)
    assert p.returncode == 1
    err = json.loads(p.stdout)
    assert err["kind"] == "budget_exceeded", err
    assert "clerk" in err["message"] and "0.2" in err["message"]
    assert len(ai.requests) == 2 and len(inbox.messages) == 2

    # A free capability still runs for the same agent.
    capsmith(home, "agent", "add", "clerk", "text-toolkit", "--yes")
    p = capsmith(home, "agent", "run", "clerk", "text-toolkit.slugify", "--input", '{"text": "Still Free"}', "--json")
    assert json.loads(p.stdout)["output"]["slug"] == "still-free"

    s = json.loads(capsmith(home, "stats", "--agent", "clerk", "--json").stdout)
    assert s["totals"]["runs"] == 3 and s["totals"]["ok"] == 3
    assert s["totals"]["tokens"] > 0
    assert s["budget"] == 0.2 and s["spent_this_month"] >= 0.2
    assert {r["capability"] for r in s["by_capability"]} == {"invoice-processor", "text-toolkit"}
    assert s["daily"][-1]["runs"] == 3 and len(s["daily"]) == 30
    assert s["totals"]["p50_ms"] > 0 and s["totals"]["p95_ms"] >= s["totals"]["p50_ms"]

    # Lifting the budget lets paid calls through again.
    capsmith(home, "agent", "budget", "clerk", "--clear")
    p = capsmith(home, "agent", "run", "clerk", "invoice-processor.process", "--input", payload, "--json")
    assert json.loads(p.stdout)["ok"] is True


def test_stats_count_errors_by_kind(setup):
    home, ai, inbox, tmp = setup
    ai.bad_amount = True
    payload = json.dumps(uploaded(home, tmp, "invoice-b.pdf"))
    p = capsmith(home, "workflow", "run", "invoice-processor", "--input", payload, "--json", check=False)
    assert p.returncode == 1
    s = json.loads(capsmith(home, "stats", "invoice-processor", "--json").stdout)
    assert s["totals"]["runs"] == 1 and s["totals"]["ok"] == 0
    assert s["totals"]["success_rate"] == 0
    assert s["errors_by_kind"] == [["schema_mismatch", 1]]
    text = capsmith(home, "stats", "invoice-processor").stdout
    assert "schema_mismatch" in text and re.search(r"\b1 runs\b", text), text
