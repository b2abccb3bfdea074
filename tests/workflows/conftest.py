"""The `setup` fixture: a Capsmith home wired to a loopback AI stand-in and a real SMTP server."""
import socket

import pytest
from aiosmtpd.controller import Controller

from workflow_support import AiStandIn, Inbox, capsmith


@pytest.fixture
def setup(tmp_path):
    home = tmp_path / "home"
    ai = AiStandIn()
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        smtp_port = s.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    capsmith(home, "settings", "set", "ai.base_url", f"http://127.0.0.1:{ai.port}/v1")
    capsmith(home, "settings", "set", "ai.model", "stand-in-1")
    capsmith(home, "settings", "set", "ai.api_key", "-", stdin="sk-test-invoice-key")
    # The AI endpoint the user set is reachable for AI calls on its own (no allow-host needed).
    capsmith(home, "settings", "set", "email.smtp_host", f"127.0.0.1:{smtp_port}")
    capsmith(home, "settings", "set", "email.security", "none")
    capsmith(home, "settings", "set", "email.from", "Capsmith <capsmith@example.test>")
    yield home, ai, inbox, tmp_path
    smtp.stop()
    ai.server.shutdown()


