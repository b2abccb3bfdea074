"""Standard actions the invoice test does not reach, through the CLI: knowledge.search over a
folder (FTS5, kept in step with the folder), database.query (equality filters and read-only
SQL), ocr.extract on what it cannot read, and the permission each action needs."""
import json
import sqlite3

from workflow_support import capsmith


def workflow(tmp_path, home, id_, steps, permissions, inputs="[]"):
    f = tmp_path / f"{id_}.yaml"
    f.write_text(
        f"capability:\n  id: {id_}\n  name: {id_}\n  version: 1.0.0\n  type: workflow\n"
        f"  actions: [{{ id: go, inputs: {inputs} }}]\n"
        f"  workflow:\n    steps:\n{steps}"
        f"  permissions: {permissions}\n"
    )
    p = capsmith(home, "import", str(f), check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def run(home, id_, payload=None):
    p = capsmith(home, "workflow", "run", id_, "--input", json.dumps(payload or {}), "--json", check=False)
    return p.returncode, json.loads(p.stdout)


def test_knowledge_search_follows_the_folder(tmp_path):
    home = tmp_path / "home"
    docs = tmp_path / "docs"
    (docs / "policies").mkdir(parents=True)
    (docs / "policies" / "refunds.md").write_text("# Refund policy\nCustomers get a refund within 30 days of purchase.\n")
    (docs / "shipping.txt").write_text("Shipping takes five working days inside the EU.\n")
    (docs / ".hidden.md").write_text("refund secrets nobody should index\n")
    capsmith(home, "settings", "set", "knowledge.folder", str(docs))
    workflow(tmp_path, home, "kb", "      - { id: find, action: knowledge.search, query: '${input.q}', limit: 5 }\n",
             "[knowledge.read]", "[{ name: q, type: string, required: true }]")

    code, r = run(home, "kb", {"q": "refund days"})
    assert code == 0, r
    hits = r["output"]
    # Any word matches; the document with both ranks first; hidden files are not indexed.
    assert [h["path"] for h in hits] == ["policies/refunds.md", "shipping.txt"], hits
    assert hits[0]["title"] == "Refund policy" and "[refund]" in hits[0]["snippet"].lower()
    assert hits[0]["score"] > hits[1]["score"]

    # Changed, added and removed files are seen at the next search; FTS syntax in the query is text.
    (docs / "shipping.txt").write_text("Refunds for lost parcels are paid after 10 days.\n")
    (docs / "policies" / "refunds.md").unlink()
    code, r = run(home, "kb", {"q": 'refund* OR "x" NEAR(days'})
    assert code == 0, r
    assert [h["path"] for h in r["output"]] == ["shipping.txt"], r["output"]
    assert "[Refunds]" in r["output"][0]["snippet"]


def test_database_query_reads_what_insert_wrote_and_cannot_write(tmp_path):
    home = tmp_path / "home"
    workflow(tmp_path, home, "ledger", """\
      - { id: put, action: database.insert, table: payments, data: [{ who: ada, amount: 12.5 }, { who: bob, amount: 3 }, { who: ada, amount: 1 }] }
      - { id: mine, action: database.query, table: payments, where: { who: ada }, order_by: -amount }
      - { id: total, action: database.query, sql: 'SELECT sum(amount) AS total FROM payments WHERE who = ?', params: [bob] }
""", "[data.write, data.read]")
    code, r = run(home, "ledger")
    assert code == 0, r
    steps = {s["step"]: s for s in r["steps"]}
    assert steps["put"]["output"]["inserted"] == 3
    assert [(x["who"], x["amount"]) for x in steps["mine"]["output"]] == [("ada", 12.5), ("ada", 1)]
    assert steps["total"]["output"] == [{"total": 3}]

    # SQL through database.query is read-only; identifiers cannot smuggle SQL.
    workflow(tmp_path, home, "sneaky", """\
      - { id: drop, action: database.query, sql: 'DELETE FROM payments' }
""", "[data.read]")
    code, r = run(home, "sneaky")
    assert code == 1 and r["steps"][0]["status"] == "error", r
    workflow(tmp_path, home, "sneaky2", """\
      - { id: bad, action: database.insert, table: 'payments; DROP TABLE payments', data: { x: 1 } }
""", "[data.write]")
    code, r = run(home, "sneaky2")
    assert code == 1 and "not a table name" in r["steps"][0]["error"], r
    rows = sqlite3.connect(home / "data" / "user-data.sqlite3").execute("SELECT count(*) FROM payments").fetchone()
    assert rows == (3,)


def test_each_standard_action_needs_its_permission(tmp_path):
    home = tmp_path / "home"
    # The manifest asks for data.read only; its step inserts. Validation says so, the runtime refuses.
    f = tmp_path / "greedy.yaml"
    f.write_text(
        "capability:\n  id: greedy\n  name: greedy\n  version: 1.0.0\n  type: workflow\n"
        "  workflow:\n    steps:\n      - { id: put, action: database.insert, table: t, data: { a: 1 } }\n"
        "  permissions: [data.read]\n"
    )
    v = capsmith(home, "validate", str(f), check=False)
    assert v.returncode == 1 and "data.write" in v.stdout + v.stderr


def test_ocr_extract_says_what_it_cannot_read(tmp_path):
    home = tmp_path / "home"
    workflow(tmp_path, home, "reader", "      - { id: text, action: ocr.extract, input: '${input.path}' }\n",
             "[file.read]", "[{ name: path, type: string, required: true }]")
    up = home / "uploads" / "t"
    up.mkdir(parents=True)
    (up / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (up / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF\n")
    (up / "notes.txt").write_text("plain words")
    code, r = run(home, "reader", {"path": "t/scan.png"})
    assert code == 1 and "OCR of images is not available" in r["steps"][0]["error"], r
    code, r = run(home, "reader", {"path": "t/broken.pdf"})
    assert code == 1 and "PDF" in r["steps"][0]["error"], r
    code, r = run(home, "reader", {"path": "t/notes.txt"})
    assert code == 0 and r["output"]["text"] == "plain words", r
