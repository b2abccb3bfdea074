"""The design's invoice workflow, end to end through the `capsmith` CLI, with real parts: a real
text PDF, an OpenAI-compatible stand-in on loopback (it reads the invoice text it is sent, so
it only answers right when the extracted text reached it), a real SMTP server (aiosmtpd) on
loopback, and the user data SQLite file read back afterwards.
"""
import json
import sqlite3

from workflow_support import ROOT, capsmith
from make_invoice_pdf import invoice_pdf


def steps_of(run):
    return {s["step"]: s for s in run["steps"]}


def test_the_invoice_workflow_runs_end_to_end_on_a_pdf(setup):
    home, ai, inbox, tmp = setup
    pdf = tmp / "invoice-7731.pdf"
    pdf.write_bytes(invoice_pdf("INV-7731", "Contoso Paper GmbH", "2026-11-02", "418.20"))

    p = capsmith(home, "workflow", "upload", "invoice-processor", str(pdf), "--json")
    run = json.loads(p.stdout)
    assert run["status"] == "ok", run
    st = steps_of(run)
    assert [s["step"] for s in run["steps"]] == ["extract", "analyze", "validate", "store", "notify"]
    assert all(s["status"] == "ok" for s in run["steps"]), run["steps"]
    assert "Contoso Paper GmbH" in st["extract"]["output"]["text"]
    assert st["analyze"]["output"] == {"number": "INV-7731", "vendor": "Contoso Paper GmbH", "date": "2026-11-02", "amount": 418.2}

    # The AI endpoint got the PDF's text, with the key from the keyring.
    assert len(ai.requests) == 1
    assert ai.requests[0]["path"] == "/v1/chat/completions"
    assert ai.requests[0]["auth"] == "Bearer sk-test-invoice-key"
    assert ai.requests[0]["body"]["model"] == "stand-in-1"

    # Stored in the user data database, not in the registry.
    db = sqlite3.connect(home / "data" / "user-data.sqlite3")
    rows = db.execute("SELECT number, vendor, date, amount FROM invoices").fetchall()
    assert rows == [("INV-7731", "Contoso Paper GmbH", "2026-11-02", 418.2)]
    registry = sqlite3.connect(home / "registry.sqlite3")
    tables = {r[0] for r in registry.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "invoices" not in tables

    # The real SMTP server received the notification; the admin was not bothered.
    assert len(inbox.messages) == 1
    m = inbox.messages[0]
    assert m["to"] == ["accounting@company.com"]
    assert m["from"] == "capsmith@example.test"
    assert "Subject: New Invoice: INV-7731" in m["data"]
    assert "Invoice processed successfully" in m["data"]

    # The key never reached the record of the run.
    dump = "\n".join(registry.iterdump())
    assert "sk-test-invoice-key" not in dump

    # The bundled sample works too.
    p = capsmith(home, "workflow", "upload", "invoice-processor", str(ROOT / "assets/samples/invoice-2026-0042.pdf"), "--json")
    run = json.loads(p.stdout)
    assert run["status"] == "ok", run
    assert steps_of(run)["analyze"]["output"]["number"] == "INV-2026-0042"
    assert len(inbox.messages) == 2


def test_a_file_the_filter_turns_away_runs_no_step(setup):
    home, ai, inbox, tmp = setup
    pdf = tmp / "receipt.pdf"  # not an "invoice"
    pdf.write_bytes(invoice_pdf("R-1", "Corner Shop", "2026-11-02", "3.50"))
    p = capsmith(home, "workflow", "upload", "invoice-processor", str(pdf), "--json")
    run = json.loads(p.stdout)
    assert run["status"] == "filtered", run
    assert run["steps"] == []
    assert ai.requests == [] and inbox.messages == []


def test_invalid_ai_output_fails_validation_retries_then_notifies_the_admin(setup):
    home, ai, inbox, tmp = setup
    ai.bad_amount = True
    pdf = tmp / "invoice-9.pdf"
    pdf.write_bytes(invoice_pdf("INV-9", "Fabrikam", "2026-10-01", "99.00"))
    p = capsmith(home, "workflow", "upload", "invoice-processor", str(pdf), "--json", check=False)
    assert p.returncode == 1
    run = json.loads(p.stdout)
    assert run["status"] == "error"
    st = steps_of(run)
    assert st["validate"]["status"] == "error"
    assert "amount" in st["validate"]["error"] and "number" in st["validate"]["error"]
    assert "store" not in st and "notify" not in st
    # Nothing was stored; the handler mailed the admin with the error.
    assert not (home / "data" / "user-data.sqlite3").exists() or sqlite3.connect(home / "data" / "user-data.sqlite3").execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'invoices'"
    ).fetchone() == (0,)
    assert [m["to"] for m in inbox.messages] == [["admin@company.com"]]
    assert "does not match the schema" in inbox.messages[0]["data"]
    # validate.schema failing is not worth asking the model again: one AI call.
    assert len(ai.requests) == 1


def test_standard_actions_read_only_uploaded_files(setup):
    home, ai, inbox, tmp = setup
    outside = tmp / "secret.txt"
    outside.write_text("top secret")
    uploads = home / "uploads" / "x"
    uploads.mkdir(parents=True)
    (uploads / "link.txt").symlink_to(outside)
    wf = tmp / "reader.yaml"
    wf.write_text(
        "capability:\n  id: reader\n  name: Reader\n  version: 1.0.0\n  type: workflow\n"
        "  actions: [{ id: read, inputs: [{ name: path, type: string, required: true }] }]\n"
        "  workflow:\n    steps:\n      - { id: read, action: file.read, input: '${input.path}' }\n"
        "  permissions: [file.read]\n"
    )
    capsmith(home, "import", str(wf))
    for attempt in [str(outside), "../../secret.txt", "x/../../../secret.txt", "x/link.txt", "/etc/passwd"]:
        p = capsmith(home, "workflow", "run", "reader", "--input", json.dumps({"path": attempt}), "--json", check=False)
        assert p.returncode == 1, attempt
        run = json.loads(p.stdout)
        assert run["status"] == "error"
        assert "top secret" not in p.stdout and "root:" not in p.stdout
        err = steps_of(run)["read"]["error"]
        assert "only uploaded files" in err or "no such uploaded file" in err, (attempt, err)
    # An uploaded file is readable.
    (home / "uploads" / "x" / "note.txt").write_text("hello")
    p = capsmith(home, "workflow", "run", "reader", "--input", json.dumps({"path": "x/note.txt"}), "--json")
    assert json.loads(p.stdout)["output"]["text"] == "hello"
