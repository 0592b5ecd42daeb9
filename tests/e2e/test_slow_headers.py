"""Request headers have a deadline (chat/transports/headers.py), against a real daphne started the
way `make run` starts it: a client trickling its headers a byte at a time is answered 408 and
closed, hundreds of them neither hold their descriptors nor slow anyone, and nothing after the
headers (keep-alive, SSE, long-poll, WebSocket) is cut."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import statistics
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from .conftest import DaphneServer
from .test_http_transports import sse_events
from .test_websocket import Peer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120), pytest.mark.alone]

DEADLINE = 2  # CHAT_HEADER_TIMEOUT of these tests' server
EVERY = 0.5  # seconds between two bytes of a slow client
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
FLOOD = 200


@pytest.fixture
def deadline_server(start_server: Callable[..., DaphneServer]) -> DaphneServer:
    return start_server(CHAT_HEADER_TIMEOUT=str(DEADLINE))


def open_fds(server: DaphneServer) -> int:
    assert server.process is not None
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def trickle(port: int, give_up: float) -> tuple[float, int, float, bytes]:
    """Sends a request's headers one byte every EVERY seconds, without end, until the server
    closes the connection or `give_up` seconds pass: (seconds open, bytes sent, seconds between
    the last byte sent and the close, what the server answered)."""
    sock = socket.create_connection(("127.0.0.1", port))
    started = last_sent = time.monotonic()
    sent = 0
    answer = b""
    try:
        while time.monotonic() - started < give_up:
            try:
                sock.sendall(SLOW_HEAD[sent : sent + 1] or b"a")
            except OSError:
                break  # closed under us
            sent += 1
            last_sent = time.monotonic()
            readable, _, _ = select.select([sock], [], [], EVERY)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                answer += chunk
        ended = time.monotonic()
        return ended - started, sent, ended - last_sent, answer
    finally:
        sock.close()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_a_client_trickling_its_headers_is_answered_408_and_closed(deadline_server: DaphneServer) -> None:
    seconds, sent, quiet, answer = trickle(deadline_server.port, give_up=DEADLINE + 8)
    print(  # the figures, with `pytest -s`
        f"headers trickled a byte every {EVERY} s: closed after {seconds:.2f} s "
        f"(deadline {DEADLINE} s), {sent} bytes sent, the last {quiet:.2f} s before the close"
    )
    assert seconds < DEADLINE + 3, f"still open after {seconds:.1f} s"
    assert seconds >= DEADLINE - 0.1
    assert sent >= DEADLINE / EVERY  # it kept sending until the end
    assert quiet <= EVERY + 0.2
    assert status_of(answer) == 408, answer[:300]
    assert b'"code":"request_timeout"' in answer
    assert b"Connection: close" in answer

    # One that sends nothing at all is closed at the same deadline, without an answer.
    with socket.create_connection(("127.0.0.1", deadline_server.port)) as silent:
        silent.settimeout(DEADLINE + 8)
        started = time.monotonic()
        assert silent.recv(100) == b""
        assert time.monotonic() - started < DEADLINE + 3


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One response with a Content-Length from a keep-alive connection: (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "closed before the answer"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of the answer"
        body += chunk
    return int(head.split(b" ", 2)[1]), body


def test_prompt_headers_keep_alive_and_held_connections_are_not_cut(deadline_server: DaphneServer) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", deadline_server.port)) as sock:
        sock.settimeout(10)
        # Headers in pieces over most of the deadline: slow, but in time.
        for piece in (request[:10], request[10:25], request[25:]):
            sock.sendall(piece)
            time.sleep(DEADLINE / 4)
        assert read_response(sock)[0] == 200
        # Idle between requests for longer than the deadline: the next one's starts at its
        # first byte, and the same connection answers it.
        time.sleep(DEADLINE + 1)
        sock.sendall(request)
        assert read_response(sock)[0] == 200

    writer = Peer(deadline_server, "alice")
    viewer = Peer(deadline_server, None)
    last_seq = writer.hello["last_seq"]
    answers: dict[str, object] = {}

    def poll() -> None:
        answers["poll"] = httpx.get(
            f"{deadline_server.base_url}/rooms/demo/poll?after={last_seq}&timeout=30", timeout=40
        )

    poller = threading.Thread(target=poll)
    with (
        httpx.Client(base_url=deadline_server.base_url, timeout=10) as client,
        client.stream("GET", f"/rooms/demo/events?after={last_seq}") as stream,
    ):
        assert stream.status_code == 200
        poller.start()
        time.sleep(2 * DEADLINE + 1)  # all three held well past the deadline
        opened = time.monotonic()
        writer.post("still here")
        (event,) = sse_events(stream.iter_lines(), 1, time.monotonic() + 5)
        assert event["text"] == "still here"
    poller.join(timeout=10)
    polled = answers["poll"]
    assert isinstance(polled, httpx.Response)
    assert polled.status_code == 200
    assert [e["text"] for e in polled.json()["events"]] == ["still here"]
    assert [e["text"] for e in viewer.events(1)] == ["still here"]
    print(  # the figures, with `pytest -s`
        f"SSE, long-poll and WebSocket held {2 * DEADLINE + 1} s (deadline {DEADLINE} s): all received "
        f"the next post, SSE {1000 * (time.monotonic() - opened):.0f} ms after it"
    )
    writer.close()
    viewer.close()


async def test_hundreds_of_slow_clients_are_all_closed_and_slow_nobody(deadline_server: DaphneServer) -> None:
    before = open_fds(deadline_server)

    async def timed_health() -> float:
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as client:
            health = await client.get(f"{deadline_server.base_url}/healthz")
        assert health.status_code == 200
        return time.monotonic() - started

    quiet_health = await timed_health()

    async def slow_client() -> tuple[float, int, bytes]:
        """Like `trickle`: a byte every EVERY s until closed (or 10 s past the deadline)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", deadline_server.port)
        started = time.monotonic()
        sent = 0
        answer = b""
        try:
            while time.monotonic() - started < DEADLINE + 10:
                try:
                    writer.write(SLOW_HEAD[sent : sent + 1] or b"a")
                    await writer.drain()
                except ConnectionError:
                    break
                sent += 1
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), EVERY)
                except TimeoutError:
                    continue
                except ConnectionError:
                    break
                if not chunk:
                    break
                answer += chunk
            return time.monotonic() - started, sent, answer
        finally:
            writer.close()

    async def meanwhile() -> tuple[list[float], int]:
        """/healthz timings while the slow clients are connected, and the most descriptors."""
        timings = []
        most = 0
        for _ in range(6):
            await asyncio.sleep(DEADLINE / 6)
            most = max(most, open_fds(deadline_server))
            timings.append(await timed_health())
        return timings, most

    clients = asyncio.gather(*(slow_client() for _ in range(FLOOD)))
    (results, (health, most)) = await asyncio.gather(clients, meanwhile())
    await asyncio.sleep(0.5)
    after = open_fds(deadline_server)

    closed_after = sorted(seconds for seconds, _, _ in results)
    statuses = [status_of(answer) for _, _, answer in results]
    print(  # the figures, with `pytest -s`
        f"{FLOOD} clients trickling headers: closed after {closed_after[0]:.2f}-{closed_after[-1]:.2f} s "
        f"(median {statistics.median(closed_after):.2f} s, deadline {DEADLINE} s), "
        f"{statuses.count(408)} answered 408; daphne's descriptors {before} -> {most} -> {after}; "
        f"/healthz meanwhile {', '.join(f'{seconds * 1000:.0f}' for seconds in health)} ms "
        f"({quiet_health * 1000:.0f} ms before)"
    )
    assert statuses == [408] * FLOOD
    assert closed_after[-1] < DEADLINE + 3
    assert min(sent for _, sent, _ in results) >= DEADLINE / EVERY
    assert most >= before + FLOOD * 0.9  # they were all connected at once...
    assert after <= before + 5  # ... and their descriptors are back
    assert max(health) < 1.0, f"/healthz took {max(health):.2f} s"


def test_a_body_trickled_below_the_minimum_rate_is_answered_408_and_closed(
    start_server: Callable[..., DaphneServer],
) -> None:
    server = start_server(CHAT_BODY_TIMEOUT=str(DEADLINE), CHAT_BODY_MIN_RATE="500")
    sock = socket.create_connection(("127.0.0.1", server.port))
    head = b"POST /rooms/demo/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
    sock.sendall(head)
    started = time.monotonic()
    answer = b""
    sent = 0
    try:
        while time.monotonic() - started < DEADLINE + 8:
            try:
                sock.sendall(b"x")  # a byte every EVERY seconds: far below 500 a second
            except OSError:
                break
            sent += 1
            readable, _, _ = select.select([sock], [], [], EVERY)
            if readable:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        seconds = time.monotonic() - started
    finally:
        sock.close()
    print(f"body trickled a byte every {EVERY} s: closed after {seconds:.2f} s, {sent} body bytes sent")
    assert status_of(answer) == 408, answer[:300]
    assert b"arrived too slowly" in answer
    assert DEADLINE - 0.1 <= seconds < DEADLINE + 3
    # A body sent at once under the same settings is read and answered as usual.
    refused = httpx.post(f"{server.base_url}/rooms/demo/messages", json={"text": "x"}, timeout=10)
    assert refused.status_code in {401, 403}  # no session and no CSRF token: answered, not cut
