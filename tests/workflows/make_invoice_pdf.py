"""Writes a one-page text PDF invoice (PDF 1.4, Helvetica, no dependencies).

The bundled sample `assets/samples/invoice-2026-0042.pdf` was made with it; the workflow tests
also make fresh ones with other details, so a stand-in cannot pass by knowing the sample.

    python3 tests/workflows/make_invoice_pdf.py OUT.pdf [NUMBER VENDOR DATE AMOUNT]
"""
import sys


def invoice_pdf(number: str, vendor: str, date: str, amount: str) -> bytes:
    lines = [
        (22, f"INVOICE {number}"),
        (12, f"Vendor: {vendor}"),
        (12, f"Invoice Number: {number}"),
        (12, f"Invoice Date: {date}"),
        (12, "Bill to: Capsmith Accounting, 1 Example Street"),
        (12, "Description: Consulting services, 12 hours"),
        (12, f"Total Amount Due: {amount} EUR"),
    ]
    ops = ["BT"]
    y = 760
    for size, text in lines:
        esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"/F1 {size} Tf 1 0 0 1 72 {y} Tm ({esc}) Tj")
        y -= 30 if size > 12 else 20
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


if __name__ == "__main__":
    args = sys.argv[2:] or ["INV-2026-0042", "Northwind Office Supplies", "2026-11-20", "1284.50"]
    with open(sys.argv[1], "wb") as f:
        f.write(invoice_pdf(*args))
