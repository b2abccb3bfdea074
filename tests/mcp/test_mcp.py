"""`capsmith mcp serve --agent NAME [--http 127.0.0.1:PORT]` against the official MCP client.

Tool convention: name `<capability-id>__<action-id>`, title `<capability-id>.<action-id>`,
description the action's; a successful call returns the action's output object as
`structuredContent` and the same JSON as one text content; an action that fails (bad input,
a guard refusal) is a tool error (`isError: true`) whose text says why; a name the agent does
not have is an error (a JSON-RPC error, or a tool error naming it).
"""

import json
import os
import queue
import subprocess
import sys
import threading
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import McpError

from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def connect(server):
    """The official client, sending the agent's token as every MCP client configured for it
    does."""
    return streamable_http_client(server.url, http_client=create_mcp_http_client(headers=server.auth))

pytestmark = pytest.mark.anyio

TIMEOUT = 60  # seconds for one whole test's client work; a hang fails instead of blocking CI
WRITER_TOOLS = {"text-toolkit__slugify", "text-toolkit__wordCount"}


@asynccontextmanager
async def stdio_session(bin_: Path, home: Path, workdir: Path, agent: str, message_handler=None):
    """An initialized client session on `capsmith --home H mcp serve --agent AGENT` (stdio).
    The server's stderr goes to a log that is printed when the test fails."""
    params = StdioServerParameters(
        command=str(bin_),
        args=["--home", str(home), "mcp", "serve", "--agent", agent],
        env=dict(os.environ),
    )
    log = workdir / f"stdio-{agent}-{os.urandom(4).hex()}.log"
    with open(log, "w") as errlog:
        try:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(
                    read, write, read_timeout_seconds=timedelta(seconds=30), message_handler=message_handler
                ) as session:
                    init = await session.initialize()
                    yield session, init
        except BaseException:
            errlog.flush()
            print(f"--- server stderr ({agent}) ---\n{log.read_text(errors='replace')}")
            raise


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


async def call_error(session: ClientSession, name: str, arguments: dict) -> str:
    """Calls a tool that must fail; the error's message, whichever way it comes back."""
    try:
        result = await session.call_tool(name, arguments)
    except McpError as e:
        return e.error.message
    assert result.isError is True, f"{name} should fail, got {result}"
    return text_of(result)


def assert_slugify_tool(tools: dict):
    tool = tools["text-toolkit__slugify"]
    assert tool.title == "text-toolkit.slugify"
    schema = tool.inputSchema
    assert schema.get("type") == "object", schema
    assert "text" in schema.get("properties", {}), schema
    assert schema["properties"]["text"].get("type") == "string", schema
    assert "text" in schema.get("required", []), schema


def assert_slug_result(result, slug: str):
    assert result.isError is not True, text_of(result)
    assert result.structuredContent == {"slug": slug}
    texts = [c for c in result.content if c.type == "text"]
    assert len(texts) == 1, result.content
    assert json.loads(texts[0].text) == {"slug": slug}


# --- stdio ---------------------------------------------------------------------------------


async def test_stdio_lists_the_agents_actions(capsmith_bin, home, workdir):
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(capsmith_bin, home, workdir, "writer") as (session, init):
            assert init.serverInfo.name == "capsmith"
            assert init.capabilities.tools is not None
            listed = (await session.list_tools()).tools
            tools = {t.name: t for t in listed}
            # Only the writer's capability: guard's guarded-probe is not there.
            assert set(tools) == WRITER_TOOLS, sorted(tools)
            assert_slugify_tool(tools)
            assert tools["text-toolkit__wordCount"].title == "text-toolkit.wordCount"


async def test_stdio_call_returns_the_output(capsmith_bin, home, workdir):
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(capsmith_bin, home, workdir, "writer") as (session, _):
            result = await session.call_tool("text-toolkit__slugify", {"text": "Hello, World!"})
            assert_slug_result(result, "hello-world")

            counted = await session.call_tool(
                "text-toolkit__wordCount", {"text": "hello brave new world"}
            )
            assert counted.isError is not True, text_of(counted)
            assert counted.structuredContent == {"words": 4, "characters": 21}
            assert json.loads(text_of(counted)) == {"words": 4, "characters": 21}


async def test_stdio_bad_input_is_a_tool_error(capsmith_bin, home, workdir):
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(capsmith_bin, home, workdir, "writer") as (session, _):
            missing = await session.call_tool("text-toolkit__slugify", {})
            assert missing.isError is True, missing
            assert "text" in text_of(missing), text_of(missing)

            wrong_type = await session.call_tool("text-toolkit__slugify", {"text": 42})
            assert wrong_type.isError is True, wrong_type
            assert "string" in text_of(wrong_type), text_of(wrong_type)

            # The session is still usable after tool errors.
            ok = await session.call_tool("text-toolkit__slugify", {"text": "Still Here"})
            assert_slug_result(ok, "still-here")


async def test_stdio_unknown_tool_is_an_error(capsmith_bin, home, workdir):
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(capsmith_bin, home, workdir, "writer") as (session, _):
            for name in (
                "text-toolkit__nope",  # no such action
                "guarded-probe__probe",  # another agent's action
                "text-toolkit.slugify",  # the title, not the name
            ):
                message = await call_error(session, name, {"text": "x"})
                assert name in message, f"{name}: {message}"


async def test_stdio_guard_refusal_is_a_tool_error(capsmith_bin, home, workdir):
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(capsmith_bin, home, workdir, "guard") as (session, _):
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert set(tools) == {"guarded-probe__probe"}, sorted(tools)
            probe = tools["guarded-probe__probe"]
            assert probe.title == "guarded-probe.probe"
            assert probe.description == "Fetch a status from a loopback address"

            result = await session.call_tool("guarded-probe__probe", {})
            assert result.isError is True, result
            message = text_of(result)
            assert "refused" in message, message
            assert "127.0.0.1" in message, message


def test_stdio_unknown_agent_exits_with_an_error(capsmith_bin, home):
    proc = subprocess.run(
        [str(capsmith_bin), "--home", str(home), "mcp", "serve", "--agent", "nobody-here"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0, proc
    assert proc.stdout == "", f"stdout is the protocol channel: {proc.stdout!r}"
    assert "nobody-here" in proc.stderr, proc.stderr


def test_stdio_speaks_only_json_rpc_and_ends_on_eof(capsmith_bin, home):
    """Raw stdio: every stdout line is a JSON-RPC message; closing stdin ends the server (exit 0)."""
    proc = subprocess.Popen(
        [str(capsmith_bin), "--home", str(home), "mcp", "serve", "--agent", "writer"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(l) for l in proc.stdout] and None, daemon=True
    ).start()
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True).start()

    def send(msg: dict):
        proc.stdin.write(json.dumps(msg) + "\n")
        proc.stdin.flush()

    def reply(id_: int) -> dict:
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail(f"no reply to request {id_}; stderr:\n{''.join(stderr)}", pytrace=False)
            msg = json.loads(line)  # anything else on stdout breaks every MCP client
            assert msg.get("jsonrpc") == "2.0", msg
            if msg.get("id") == id_:
                return msg

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw-test", "version": "0"}}})
        init = reply(1)
        assert init["result"]["serverInfo"]["name"] == "capsmith", init
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        names = {t["name"] for t in reply(2)["result"]["tools"]}
        assert names == WRITER_TOOLS, names
        proc.stdin.close()
        assert proc.wait(timeout=15) == 0, "".join(stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    extra = []
    while not lines.empty():
        extra.append(json.loads(lines.get()))
    for msg in extra:
        assert msg.get("jsonrpc") == "2.0", msg


# --- streamable HTTP -----------------------------------------------------------------------


async def test_http_lists_and_calls(http_server):
    server = http_server("writer")
    try:
        with anyio.fail_after(TIMEOUT):
            async with connect(server) as (read, write, _session_id):
                async with ClientSession(
                    read, write, read_timeout_seconds=timedelta(seconds=30)
                ) as session:
                    init = await session.initialize()
                    assert init.serverInfo.name == "capsmith"
                    tools = {t.name: t for t in (await session.list_tools()).tools}
                    assert set(tools) == WRITER_TOOLS, sorted(tools)
                    assert_slugify_tool(tools)
                    result = await session.call_tool(
                        "text-toolkit__slugify", {"text": "MCP over HTTP"}
                    )
                    assert_slug_result(result, "mcp-over-http")
                    bad = await session.call_tool("text-toolkit__slugify", {})
                    assert bad.isError is True, bad
    except BaseException:
        print(f"--- server output ---\n{server.output()}")
        raise


async def test_http_refuses_a_foreign_host_header(http_server):
    """DNS-rebinding protection: a page on another origin must not reach the loopback server."""
    server = http_server("writer")
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "rebinding", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream", **server.auth}
    async with httpx.AsyncClient(timeout=10) as client:
        foreign = await client.post(
            server.url, json=initialize, headers={**headers, "Host": f"evil.example:{server.port}"}
        )
        assert foreign.status_code == 421, (foreign.status_code, foreign.text)
        assert foreign.json()["kind"] == "wrong_host"
        own = await client.post(server.url, json=initialize, headers=headers)
        assert own.status_code == 200, (own.status_code, own.text)


async def test_http_needs_the_agents_token_and_no_foreign_origin(http_server):
    """Without the token nothing reaches the MCP service: not a GET an <img> tag would send,
    not a POST with a wrong, truncated or other agent's token, not a page's fetch."""
    server = http_server("writer")
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "attacker", "version": "0"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    other = http_server("guard")
    async with httpx.AsyncClient(timeout=10) as client:
        for headers in [
            accept,
            {**accept, "Authorization": "Bearer"},
            {**accept, "Authorization": f"Bearer {server.token[:-1]}"},
            {**accept, "Authorization": f"Bearer {server.token}x"},
            {**accept, "Authorization": f"Basic {server.token}"},
            {**accept, **other.auth},
        ]:
            r = await client.post(server.url, json=initialize, headers=headers)
            assert r.status_code == 401, (headers, r.status_code, r.text)
            assert r.json()["kind"] == "unauthorized"
        r = await client.get(server.url)  # what an <img src> sends: no Origin, no token
        assert r.status_code == 401, r.text
        r = await client.post(
            server.url, json=initialize,
            headers={**accept, **server.auth, "Origin": "https://evil.example"},
        )
        assert r.status_code == 403 and r.json()["kind"] == "forbidden", r.text
        r = await client.post(
            server.url, json=initialize,
            headers={**accept, **server.auth, "Origin": f"http://127.0.0.1:{server.port}"},
        )
        assert r.status_code == 200, (r.status_code, r.text)


async def test_http_stops_on_ctrl_c_with_a_session_open(http_server):
    server = http_server("writer")
    with anyio.fail_after(TIMEOUT):
        async with connect(server) as (read, write, _session_id):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await session.list_tools()
                await anyio.sleep(0.5)  # let the client open its GET (SSE) stream
                code = await anyio.to_thread.run_sync(server.interrupt)
    assert code is not None, f"did not stop within 10 s of Ctrl-C:\n{server.output()}"
    assert code == 0, f"exit {code}:\n{server.output()}"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))


async def test_stdio_a_connected_client_is_told_when_the_agent_changes(capsmith_bin, home, workdir):
    """No restart: switching a capability off (from the CLI, another process) reaches a client
    that is connected, as notifications/tools/list_changed, and the next list shows it."""
    from conftest import run_cli

    run_cli(capsmith_bin, home, "agent", "create", "watcher")
    run_cli(capsmith_bin, home, "agent", "add", "watcher", "text-toolkit", "--yes")
    changed = anyio.Event()

    async def on_message(message):
        root = getattr(message, "root", None)
        if getattr(root, "method", None) == "notifications/tools/list_changed":
            changed.set()

    with anyio.fail_after(TIMEOUT):
        async with stdio_session(capsmith_bin, home, workdir, "watcher", on_message) as (session, init):
            assert init.capabilities.tools.listChanged is True
            assert {t.name for t in (await session.list_tools()).tools} == WRITER_TOOLS
            await anyio.to_thread.run_sync(
                lambda: run_cli(capsmith_bin, home, "agent", "set", "watcher", "text-toolkit", "--enabled", "false")
            )
            await changed.wait()
            assert (await session.list_tools()).tools == []
            message = await call_error(session, "text-toolkit__slugify", {"text": "x"})
            assert "text-toolkit__slugify" in message
