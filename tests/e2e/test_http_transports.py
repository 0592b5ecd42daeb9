"""SSE, long-poll and HTTP posting against a real daphne, with real HTTP clients (httpx)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import DaphneServer, login
from .test_websocket import Peer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def sse_events(lines: Iterator[str], count: int, deadline: float) -> list[dict[str, Any]]:
    """Read `count` room events (blocks with an id) from an SSE line iterator."""
    events: list[dict[str, Any]] = []
    block: dict[str, str] = {}
    for line in lines:
        if time.monotonic() > deadline:
            raise TimeoutError(f"got {len(events)} of {count} events")
        if line == "":
            if "id" in block:
                events.append(
                    {**json.loads(block["data"]), "sse_id": int(block["id"]), "sse_event": block["event"]}
                )
                if len(events) == count:
                    return events
            block = {}
        elif not line.startswith(":") and ": " in line:
            field, value = line.split(": ", 1)
            block[field] = value
    raise AssertionError("stream ended")


def test_sse_streams_live_and_resumes_with_last_event_id(server: DaphneServer) -> None:
    writer = Peer(server, "alice")
    start = writer.hello["last_seq"]
    with (
        httpx.Client(base_url=server.base_url, timeout=10) as client,
        client.stream("GET", f"/rooms/demo/events?after={start}") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        for n in range(3):
            writer.post(f"sse {n}", nonce=str(n))
        seen = sse_events(lines, 3, time.monotonic() + 5)
    assert [e["sse_id"] for e in seen] == [start + 1, start + 2, start + 3]
    assert [e["sse_event"] for e in seen] == ["message"] * 3
    assert [e["text"] for e in seen] == ["sse 0", "sse 1", "sse 2"]

    for n in range(4):  # while the stream is down
        writer.post(f"missed {n}", nonce=f"m{n}")
    headers = {"Last-Event-ID": str(seen[-1]["sse_id"])}
    with (
        httpx.Client(base_url=server.base_url, timeout=10) as client,
        client.stream("GET", f"/rooms/demo/events?after={start}", headers=headers) as stream,
    ):
        lines = stream.iter_lines()
        missed = sse_events(lines, 4, time.monotonic() + 5)
        assert [e["text"] for e in missed] == [f"missed {n}" for n in range(4)]
        writer.post("live again", nonce="l")
        (live,) = sse_events(lines, 1, time.monotonic() + 5)
    assert live["sse_id"] == missed[-1]["sse_id"] + 1
    writer.close()


def server_threads(server: DaphneServer) -> int:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


async def raw_get_json(port: int, path: str) -> dict[str, Any]:
    """A bare HTTP/1.1 GET (httpx's pool, not the server, is slow with 500 requests at once)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head
    return json.loads(body)  # type: ignore[no-any-return]


def test_five_hundred_waiting_polls_without_a_thread_each(server: DaphneServer) -> None:
    writer = Peer(server, "bob")
    cursor = writer.hello["last_seq"]
    threads_idle = server_threads(server)

    async def poll_all() -> tuple[list[dict[str, Any]], int, float]:
        loop = asyncio.get_running_loop()
        polls = []
        for _ in range(500):
            polls.append(
                asyncio.create_task(raw_get_json(server.port, f"/rooms/demo/poll?after={cursor}&timeout=30"))
            )
            await asyncio.sleep(0.002)
        await asyncio.sleep(3)  # all 500 are now waiting in the server
        assert not any(task.done() for task in polls)
        threads_waiting = server_threads(server)
        await loop.run_in_executor(None, writer.post, "wake up", "w")
        posted = loop.time()
        bodies = await asyncio.gather(*polls)
        return bodies, threads_waiting, loop.time() - posted

    bodies, threads_waiting, answered_in = asyncio.run(poll_all())
    assert answered_in < 5  # woken by the event, well before the 30 s timeout
    assert all(body["events"][0]["text"] == "wake up" for body in bodies)
    assert all(body["last_seq"] == cursor + 1 for body in bodies)
    assert threads_waiting - threads_idle < 10  # no thread per waiting poll
    writer.close()
    # Answered below ASGI (chat/transports/direct_poll.py) or not, each has its access-log line.
    logged = [line for line in server.log().splitlines() if f"/rooms/demo/poll?after={cursor}&" in line]
    assert len(logged) == 500, logged[:3]
    assert all('"GET /rooms/demo/poll' in line and " 200 " in line for line in logged)


def test_pipelined_polls_are_answered_in_order(server: DaphneServer) -> None:
    writer = Peer(server, "bob")
    for text in ("one", "two"):
        writer.post(text, text)
    last = writer.hello["last_seq"] + 2
    cursors = [last - 2, last - 1, last, last - 2]

    async def pipelined() -> list[bytes]:
        # Once this process's feed has both (a post is acknowledged before it is broadcast).
        assert (await raw_get_json(server.port, f"/rooms/demo/poll?after={last - 1}&timeout=10"))["events"]
        reader, stream = await asyncio.open_connection("127.0.0.1", server.port)
        host = f"127.0.0.1:{server.port}"
        stream.write(
            b"".join(
                f"GET /rooms/demo/poll?after={cursor}&timeout=0 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
                for cursor in cursors
            )
        )
        bodies = []
        for _ in cursors:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 200 "), head
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            bodies.append(await reader.readexactly(length))
        stream.close()
        return bodies

    answers = [json.loads(body) for body in asyncio.run(pipelined())]
    assert [[e["text"] for e in answer["events"]] for answer in answers] == [
        ["one", "two"],
        ["two"],
        [],
        ["one", "two"],
    ]
    assert {answer["last_seq"] for answer in answers} == {last}
    writer.close()


def test_post_with_session_and_csrf_and_rate_limit(start_server: Callable[..., DaphneServer]) -> None:
    server = start_server(CHAT_MESSAGE_RATE="2/60")
    cookies = login(server.base_url, "carol")
    with httpx.Client(base_url=server.base_url, cookies=cookies, timeout=10) as client:
        page = client.get("/rooms/demo/")
        token = page.cookies.get("csrftoken") or cookies["csrftoken"]
        headers = {"X-CSRFToken": token, "Origin": server.base_url}
        answers = [
            client.post("/rooms/demo/messages", json={"text": f"http {n}", "nonce": n}, headers=headers)
            for n in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        first = answers[0].json()
        assert first["type"] == "ack"
        assert first["nonce"] == 0
        refused = answers[2]
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        forged = client.post(
            "/rooms/demo/messages", json={"text": "no token"}, headers={"Origin": server.base_url}
        )
        assert forged.status_code == 403
        assert forged.json()["code"] == "csrf_failed"
    history = httpx.get(f"{server.base_url}/rooms/demo/history", params={"limit": 5}).json()
    assert history["events"][-1]["seq"] == first["seq"] + 1
    assert history["events"][-1]["text"] == "http 1"


def test_an_sse_client_that_stops_reading_is_caught_up_from_the_log(server: DaphneServer) -> None:
    """As for WebSocket: a stalled SSE reader is cut off from live events at a bounded backlog
    and, once it reads again, gets every seq once, in order."""
    import re
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window
    sock.connect(("127.0.0.1", server.port))
    alice = Peer(server, "alice")
    start = alice.hello["last_seq"]
    request = f"GET /rooms/demo/events?after={start} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    sock.sendall(request.encode())
    text = "😀" * 480
    count = 3000  # about 6 MB: past what the kernel buffers and the 512 KiB bound
    for n in range(count):
        assert alice.post(f"{n} {text}", nonce=str(n))["type"] == "ack"
    received = b""
    sock.settimeout(30)
    last = start + count
    while f"id: {last}\n".encode() not in received:
        chunk = sock.recv(1 << 20)
        assert chunk, "stream ended"
        received += chunk
    sock.close()
    seqs = [int(n) for n in re.findall(rb"\nid: (\d+)\n", b"\n" + received)]
    assert seqs == list(range(start + 1, last + 1))
    alice.close()
    assert "SseSink client fell behind" in server.log()
