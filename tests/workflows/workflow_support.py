"""Shared parts of the workflow tests (imported by name; pytest's `conftest` is ambiguous when
several test folders run together): the CLI, a loopback OpenAI-compatible stand-in, a real
SMTP server (aiosmtpd), and a home set up to use both."""
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CAPSMITH_BIN", ROOT / "target" / "debug" / "capsmith"))


def capsmith(home, *args, stdin=None, check=True):
    if not BIN.exists():
        pytest.fail(f"{BIN} is missing: build it with `cargo build -p capsmith-cli`")
    p = subprocess.run(
        [str(BIN), "--home", str(home), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if check and p.returncode != 0:
        raise AssertionError(f"capsmith {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def send_json(handler, status, body):
    """Answers a request with a JSON body."""
    out = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(out)))
    handler.end_headers()
    handler.wfile.write(out)


def serve(handler_class):
    """A threaded HTTP server on a free loopback port, serving in the background."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


class AiStandIn:
    """An OpenAI-compatible /v1/chat/completions that extracts the invoice fields from the text
    in the prompt with regular expressions, the way a model would answer."""

    def __init__(self):
        self.requests = []
        self.bad_amount = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                text = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")

                def find(pattern):
                    m = re.search(pattern, text)
                    return m.group(1).strip() if m else None

                fields = {
                    "number": find(r"Invoice Number:\s*(\S+)"),
                    "vendor": find(r"Vendor:\s*(.+)"),
                    "date": find(r"Invoice Date:\s*(\S+)"),
                    "amount": float(find(r"Total Amount Due:\s*([\d.]+)") or "nan"),
                }
                if stand_in.bad_amount:
                    fields["amount"] = "about a thousand"
                content = "```json\n" + json.dumps(fields) + "\n```"
                answer = {
                    "id": "chatcmpl-1",
                    "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": len(text.split()), "completion_tokens": 24, "total_tokens": len(text.split()) + 24},
                }
                send_json(self, 200, answer)

        self.server, self.port = serve(Handler)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.content.decode("utf-8", "replace")}
        )
        return "250 Message accepted for delivery"
