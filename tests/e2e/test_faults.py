"""Faults against real servers: Redis restarted under traffic, a daphne process killed under open
clients, a client that stops reading, a write burst against a held database lock, a thousand
clients reconnecting at once after a restart (and, with the Redis fault, a quiet process's
health check). They run on SQLite, and again on PostgreSQL in `make test`'s second pass.

The viewers are lean asyncio clients of all three transports (the WebSocket framing is
bench/clients.py's) that behave like the browser's RoomClient (static/js/client/realtime.js):
they keep the last seq they applied, and after a lost connection they reconnect with the same
exponential backoff and full jitter (static/js/client/backoff.js), resuming with
`after=<cursor>`. Each records every seq it receives, duplicates included, and is checked
against the room's log read back through the history API: every committed event, once, in
order. Posts go through real clients
(`websockets`, `httpx`).
"""

from __future__ import annotations

import array
import asyncio
import base64
import fcntl
import json
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import termios
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.clients import OP_TEXT, WebSocketClient, mask_frame

from ..conftest import unavailable
from .conftest import DaphneServer, cookie_header, free_port, login, manage, unique_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150), pytest.mark.alone]

HOST = "127.0.0.1"
ROOMS = ("fault-redis", "fault-kill", "fault-slow", "fault-burst", "fault-herd")

# The browser client's timings (static/js/client/backoff.js, static/js/client/realtime.js), in seconds.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
STABLE_AFTER = 10.0  # a connection up this long resets the backoff
HELLO_TIMEOUT = 10.0  # an attempt with no hello by then has failed
POLL_TIMEOUT = 5  # the long-poll viewers' `timeout` (short, so a dead server shows soon)


# Clients.


class Backoff:
    """static/js/client/backoff.js: the delay bound doubles per attempt up to the cap, and the
    delay is uniformly random below it ("full jitter")."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.attempt = 0

    def next(self) -> float:
        bound = min(BACKOFF_CAP, BACKOFF_BASE * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 30)
        return self.rng.random() * bound

    def reset(self) -> None:
        self.attempt = 0


class _WsConnection(WebSocketClient):
    def __init__(self, viewer: Viewer, port: int, path: str) -> None:
        super().__init__(HOST, port, path)
        self.viewer = viewer
        # Failed handshakes set an exception nobody may be waiting for any more.
        self.opened.add_done_callback(lambda f: f.cancelled() or f.exception())

    def on_text(self, payload: bytes, now: float) -> None:
        self.viewer.frame(json.loads(payload))


class Viewer:
    """One reader of a room over `transport` ("ws", "sse" or "poll"), reconnecting like the
    browser client: to the next of `ports` (a proxy's upstreams) after each lost connection,
    after a jittered backoff, resuming after its cursor."""

    def __init__(self, transport: str, ports: list[int], slug: str, after: int, seed: int) -> None:
        self.transport = transport
        self.ports = ports
        self.slug = slug
        self.cursor = after
        self.seqs: list[int] = []  # every seq received, in arrival order, duplicates included
        self.arrivals: dict[int, float] = {}  # seq -> wall-clock time it first arrived
        self.resets: list[dict[str, Any]] = []
        self.attempts: list[float] = []  # loop time of each connection attempt
        self.hellos: list[tuple[float, int]] = []  # loop time and port of each stream started
        self.drops: list[float] = []  # loop time each connection or attempt ended
        self.failures: Counter[str] = Counter()
        self.connected = asyncio.Event()
        self.backoff = Backoff(random.Random(seed))
        self._turn = 0
        self._live_since: float | None = None
        self._stopped = False
        self._close: Callable[[], object] | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<{self.transport} viewer on {self.ports}: cursor {self.cursor}, {len(self.hellos)} streams>"

    @property
    def port(self) -> int:
        return self.ports[self._turn % len(self.ports)]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        _running.add(self)

    async def stop(self) -> None:
        _running.discard(self)
        self._stopped = True
        if self._close is not None:
            self._close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def bounce(self) -> None:
        """Drop the connection from this side (a network change); the client reconnects."""
        if self._close is not None:
            self._close()

    # What arrives.

    def frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "events":
            self.events(frame["events"])
        elif kind == "hello":
            self.hello()
        elif kind == "reset":
            self.resets.append(frame)
            self.cursor = frame["last_seq"]

    def hello(self) -> None:
        loop = asyncio.get_running_loop()
        self.hellos.append((loop.time(), self.port))
        self._live_since = loop.time()
        self.connected.set()

    def events(self, events: list[dict[str, Any]]) -> None:
        now = time.time()
        for event in events:
            seq = event["seq"]
            self.seqs.append(seq)
            self.arrivals.setdefault(seq, now)
            self.cursor = max(self.cursor, seq)

    # Connecting.

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        session = {"ws": self._websocket, "sse": self._sse, "poll": self._poll}[self.transport]
        while not self._stopped:
            self.attempts.append(loop.time())
            try:
                await session(self.port)
            except (OSError, EOFError, TimeoutError, ValueError) as error:
                self.failures[type(error).__name__] += 1
            finally:
                self.connected.clear()
                self._close = None
            if self._stopped:
                return
            self.drops.append(loop.time())
            if self._live_since is not None and loop.time() - self._live_since >= STABLE_AFTER:
                self.backoff.reset()
            self._live_since = None
            self._turn += 1
            await asyncio.sleep(self.backoff.next())

    async def _websocket(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        connection = _WsConnection(self, port, f"/ws/rooms/{self.slug}/?after={self.cursor}")

        async def opening() -> None:
            await loop.create_connection(lambda: connection, HOST, port)
            self._close = connection.close
            await connection.opened
            await self.connected.wait()

        try:
            await asyncio.wait_for(opening(), HELLO_TIMEOUT)
            await connection.closed
        finally:
            if connection.transport is not None:
                connection.transport.close()

    async def _sse(self, port: int) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), HELLO_TIMEOUT)
        self._close = writer.close
        try:
            writer.write(
                f"GET /rooms/{self.slug}/events?after={self.cursor} HTTP/1.1\r\n"
                f"Host: {HOST}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HELLO_TIMEOUT)).lower()
            if not head.startswith(b"http/1.1 200"):
                raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
            chunked = b"transfer-encoding: chunked" in head
            text = b""
            while True:
                if chunked:
                    size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                    if size == 0:
                        return
                    data = (await reader.readexactly(size + 2))[:-2]
                else:
                    data = await reader.read(1 << 16)
                    if not data:
                        return
                *blocks, text = (text + data).split(b"\n\n")
                for block in blocks:
                    self._sse_block(block.decode())
        finally:
            writer.close()

    def _sse_block(self, block: str) -> None:
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line and line[0] != ":")
        if "id" in fields:
            self.events([json.loads(fields["data"])])
        elif fields.get("event") == "hello":
            self.hello()
        elif fields.get("event") == "reset":
            self.frame(json.loads(fields["data"]))

    async def _poll(self, port: int) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), HELLO_TIMEOUT)
        self._close = writer.close
        try:
            timeout = 0  # the first answer comes at once and stands in for a hello (longpoll.js)
            while True:
                writer.write(
                    f"GET /rooms/{self.slug}/poll?after={self.cursor}&timeout={timeout} HTTP/1.1\r\n"
                    f"Host: {HOST}:{port}\r\n\r\n".encode()
                )
                head = (await reader.readuntil(b"\r\n\r\n")).lower()
                length = int(re.search(rb"content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
                body = json.loads(await reader.readexactly(length))
                if not head.startswith(b"http/1.1 200"):
                    raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
                if not self.connected.is_set():
                    self.hello()
                if "reset" in body:
                    self.resets.append(body)
                self.events(body["events"])
                self.cursor = body["last_seq"]
                timeout = POLL_TIMEOUT
                if b"connection: close" in head:
                    return
        finally:
            writer.close()


_running: set[Viewer] = set()  # stopped after each test, passed or not


class Writer:
    """A signed-in client posting numbered messages one at a time, over a WebSocket (the
    `websockets` library) or HTTP POST (`httpx`), moving to the next of `ports` when its server
    goes away. Records what was acknowledged, refused, or left unanswered by a lost connection."""

    def __init__(self, user: str, via: str, ports: list[int], slug: str, cookies: dict[str, str]) -> None:
        self.user = user
        self.via = via
        self.ports = ports
        self.slug = slug
        self.cookies = cookies
        self.acks: dict[str, int] = {}  # nonce -> seq
        self.sent_at: dict[int, float] = {}  # seq -> wall-clock time its post was sent
        self.latencies: list[float] = []  # seconds from send to ack
        self.errors: list[dict[str, Any]] = []
        self.unanswered: list[str] = []  # the connection went away before an answer
        self.failures: Counter[str] = Counter()
        self._turn = 0
        self._sent = False
        self._sent_at = 0.0
        self._ws: ClientConnection | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def port(self) -> int:
        return self.ports[self._turn % len(self.ports)]

    async def run(
        self, count: int, rate: float, kind: str = "message", filler: str = "", first: int = 0
    ) -> None:
        """Post `count` messages (or danmaku) at most `rate` a second (0: as fast as answered),
        each text being the writer's name, the post's number (from `first`) and `filler`."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            for number in range(first, first + count):
                if rate:
                    await asyncio.sleep(max(0.0, began + (number - first) / rate - loop.time()))
                nonce = f"{self.user}-{number}"
                text = f"{self.user} {number}{filler}"
                answer = await self._attempt({"type": kind, "text": text, "nonce": nonce})
                if answer is None:
                    self.unanswered.append(nonce)  # maybe written, maybe not: the log says
                elif answer.get("type") == "ack":
                    self.acks[nonce] = answer["seq"]
                    self.sent_at[answer["seq"]] = self._sent_at
                    self.latencies.append(time.time() - self._sent_at)
                else:
                    self.errors.append(answer)
        finally:
            await self._drop()

    async def _attempt(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        """Post, (re)connecting with backoff until a server takes it; None when the connection
        went away after the post was sent."""
        backoff = Backoff(random.Random(frame["nonce"]))
        while True:
            self._sent = False
            try:
                return await self._post(frame)
            except (OSError, ConnectionClosed, InvalidHandshake, httpx.TransportError) as error:
                self.failures[type(error).__name__] += 1
                sent = self._sent and not isinstance(error, httpx.ConnectError)
                await self._drop()
                self._turn += 1
                if sent:
                    return None
                await asyncio.sleep(backoff.next())

    async def _post(self, frame: dict[str, Any]) -> dict[str, Any]:
        if self.via == "http":
            return await self._post_http(frame)
        if self._ws is None:
            self._ws = await ws_connect(
                f"ws://{HOST}:{self.port}/ws/rooms/{self.slug}/",
                additional_headers={"Cookie": cookie_header(self.cookies)},
                open_timeout=10,
                close_timeout=2,
            )
        self._sent_at = time.time()
        self._sent = True
        await self._ws.send(json.dumps(frame))
        while True:
            answer = json.loads(await asyncio.wait_for(self._ws.recv(), 30))
            if answer.get("type") in ("ack", "error") and answer.get("nonce") == frame["nonce"]:
                return answer

    async def _post_http(self, frame: dict[str, Any]) -> dict[str, Any]:
        base = f"http://{HOST}:{self.port}"
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=base, cookies=self.cookies, timeout=60)
        headers = {"X-CSRFToken": self.cookies["csrftoken"], "Origin": base}
        self._sent_at = time.time()
        self._sent = True
        answer = await self._http.post(f"/rooms/{self.slug}/messages", json=frame, headers=headers)
        if not answer.headers.get("content-type", "").startswith("application/json"):
            return {
                "type": "error",
                "nonce": frame["nonce"],
                "status": answer.status_code,
                "body": answer.text[:200],
            }
        return answer.json()

    async def _drop(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()


# Reading the log and waiting.


async def room_last_seq(port: int, slug: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
        answer = await client.get(f"/rooms/{slug}/history", params={"limit": 1})
        answer.raise_for_status()
        return int(answer.json()["last_seq"])


async def log_events(port: int, slug: str, after: int) -> tuple[list[dict[str, Any]], int]:
    """The room's log after `after` (every event here is a message or a comment, so the history
    API returns them all), read back page by page; and the room's last seq."""
    events: list[dict[str, Any]] = []
    before: int | None = None
    last_seq = 0
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
        while True:
            params = {"limit": 200} if before is None else {"limit": 200, "before": before}
            answer = await client.get(f"/rooms/{slug}/history", params=params)
            answer.raise_for_status()
            page = answer.json()
            if before is None:
                last_seq = page["last_seq"]
            events[:0] = [event for event in page["events"] if event["seq"] > after]
            if not page["has_more"] or not page["events"] or page["events"][0]["seq"] <= after + 1:
                return events, last_seq
            before = page["events"][0]["seq"]


async def log_seqs(port: int, slug: str, after: int) -> tuple[list[int], int]:
    events, last_seq = await log_events(port, slug, after)
    return [event["seq"] for event in events], last_seq


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


async def watch_health(
    ports: list[int], statuses: list[tuple[float, int, int]], done: asyncio.Future[Any]
) -> None:
    """Ask each port's /healthz twice a second until `done` is: (time, port, status)."""
    while not done.done():
        for port, status in zip(ports, await asyncio.gather(*(healthz(port) for port in ports)), strict=True):
            statuses.append((time.time(), port, status))
        await asyncio.sleep(0.5)


async def caught_up(viewers: list[Viewer], last_seq: int, timeout: float) -> None:
    await until(
        lambda: all(viewer.cursor >= last_seq for viewer in viewers),
        timeout,
        f"every viewer to reach seq {last_seq}: "
        + ", ".join(repr(v) for v in viewers if v.cursor < last_seq)[:2000],
    )


def assert_exactly_once(viewers: list[Viewer], expected: list[int]) -> None:
    """Each viewer received exactly the log's seqs: none missing, none twice, in order."""
    wrong = [viewer for viewer in viewers if viewer.seqs != expected]
    if not wrong:
        return
    viewer = wrong[0]
    counts = Counter(viewer.seqs)
    missing = sorted(set(expected) - set(counts))
    twice = sorted(seq for seq, count in counts.items() if count > 1)
    extra = sorted(set(counts) - set(expected))
    raise AssertionError(
        f"{len(wrong)} of {len(viewers)} viewers did not receive the log exactly once, e.g. {viewer!r}: "
        f"missing {missing[:20]}, twice {twice[:20]}, not in the log {extra[:20]}, "
        f"in order: {viewer.seqs == sorted(viewer.seqs)}; resets {viewer.resets}"
    )


def assert_writes_in_log(writers: list[Writer], log: list[int]) -> None:
    acked = [seq for writer in writers for seq in writer.acks.values()]
    assert len(acked) == len(set(acked)), "two posts were acknowledged with the same seq"
    assert set(acked) <= set(log), f"acknowledged but not in the log: {sorted(set(acked) - set(log))[:20]}"


def gapless(log: list[int], after: int, last_seq: int) -> bool:
    return log == list(range(after + 1, last_seq + 1))


async def start_viewers(viewers: list[Viewer], timeout: float = 60, batch: int = 50) -> None:
    """Start the viewers a batch at a time (as pages open, not all in one instant) and wait
    until each has said hello."""
    for index in range(0, len(viewers), batch):
        for viewer in viewers[index : index + batch]:
            viewer.start()
        await asyncio.sleep(0.1)
    await until(lambda: all(v.connected.is_set() for v in viewers), timeout, "every viewer to connect")


async def stop_all(viewers: list[Viewer]) -> None:
    await asyncio.gather(*(viewer.stop() for viewer in viewers))


async def healthz(port: int) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"http://{HOST}:{port}/healthz")).status_code


# Servers.


class RedisServer:
    """A private `redis-server` on a port of its own (never the shared one): a test may kill it."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> RedisServer:
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not come up")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)


@pytest.fixture(autouse=True)
async def _stop_clients() -> AsyncIterator[None]:
    """Viewers and stalled clients a failed test left running stop with it, not in later tests."""
    yield
    await stop_all(list(_running))
    while _stalled:
        _stalled.pop().close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path)
    yield redis.start()
    redis.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def fault_rooms(e2e_env: dict[str, str]) -> tuple[str, ...]:
    """One room per test, so each test's log holds only its own events."""
    script = "from chat.models import Room\n" + "".join(
        f"Room.objects.get_or_create(slug={slug!r}, defaults={{'title': {slug!r}}})\n" for slug in ROOMS
    )
    manage(e2e_env, "shell", "-c", script)
    return ROOMS


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


def sessions(server: DaphneServer, users: list[str]) -> dict[str, dict[str, str]]:
    return {user: login(server.base_url, user) for user in users}


async def run_all(*jobs: Awaitable[Any]) -> list[Any]:
    return list(await asyncio.gather(*jobs))


# The faults.


@pytest.mark.redis
async def test_redis_restarted_under_traffic(
    start_server: Callable[..., DaphneServer], private_redis: RedisServer, fault_rooms: tuple[str, ...]
) -> None:
    """Restart the Redis server (empty afterwards: nothing is saved) while two daphne processes
    carry posts and viewers of every transport, some of which reconnect during the outage: the
    processes reconnect by themselves (health checks pass, and posts cross between them at once
    again, not only through the hub's 5 s check of the log), clients resume, and each viewer has
    every seq of the log once, in order. Posting does not depend on Redis (docs/OPERATIONS.md):
    no post fails while it is down, with the duplicate check at its production setting too."""
    env = {"REDIS_URL": private_redis.url, "REDIS_PREFIX": "faults"}
    one, two = start_server(**env, CHAT_DUPLICATE_SECONDS="30"), start_server(**env)
    slug = "fault-redis"
    start = await room_last_seq(one.port, slug)
    transports = ("ws", "ws", "sse", "sse", "poll", "poll")
    viewers = [
        Viewer(transport, [server.port], slug, start, seed)
        for seed, (server, transport) in enumerate((s, t) for s in (one, two) for t in transports)
    ]
    await start_viewers(viewers)
    cookies = await in_thread(sessions, one, ["alice", "bob", "carol", "writer0"])
    writers = [
        Writer("alice", "ws", [one.port], slug, cookies["alice"]),
        Writer("writer0", "http", [one.port], slug, cookies["writer0"]),
        Writer("bob", "ws", [two.port], slug, cookies["bob"]),
        Writer("carol", "http", [two.port], slug, cookies["carol"]),
    ]
    posting = asyncio.gather(*(writer.run(150, rate=10) for writer in writers))

    await asyncio.sleep(3)
    await in_thread(private_redis.stop)
    await asyncio.sleep(1)
    bounced = viewers[::2]  # one of each pair drops its connection and resumes during the outage
    for viewer in bounced:
        viewer.bounce()
    await asyncio.sleep(2)
    await in_thread(private_redis.start)  # the same port, nothing in it: no groups, no presence
    restarted_at = time.time()
    health: list[tuple[float, int, int]] = []
    await watch_health([one.port, two.port], health, posting)
    await posting

    events, last_seq = await log_events(one.port, slug, start)
    log = [event["seq"] for event in events]
    assert gapless(log, start, last_seq)
    assert_writes_in_log(writers, log)
    await caught_up(viewers, last_seq, timeout=30)
    assert_exactly_once(viewers, log)
    assert not [viewer for viewer in viewers if viewer.resets]
    assert all(len(viewer.hellos) >= 2 for viewer in bounced)
    assert not [writer.unanswered for writer in writers if writer.unanswered]
    # Live delivery across processes came back by itself: posts made on one process well after
    # the restart reached the other's viewers through Redis, not through the periodic log check.
    for writer, far in ((writers[0], viewers[6:]), (writers[2], viewers[:6])):
        late = [seq for seq, sent in writer.sent_at.items() if sent > restarted_at + 5]
        assert len(late) >= 20
        p90 = percentile([viewer.arrivals[seq] - writer.sent_at[seq] for viewer in far for seq in late], 0.9)
        assert p90 < 1.0, f"posts of {writer.user} reached the other process's viewers in {p90:.2f} s (p90)"
    # Their health checks (database and channel layer) pass again while the traffic goes on.
    late_health = [(port, status) for at, port, status in health if at > restarted_at + 5]
    assert late_health
    assert {status for _, status in late_health} == {200}, late_health
    await stop_all(viewers)
    failed = [answer for writer in writers for answer in writer.errors]
    written = {event["text"].replace(" ", "-") for event in events}  # "alice 7" was nonce "alice-7"
    assert not failed, (
        f"{len(failed)} posts failed while Redis was down, {sum(a['nonce'] in written for a in failed)} "
        f"of them written to the log all the same; e.g. {failed[:2]}"
    )


@pytest.mark.redis
async def test_a_quiet_process_on_redis_reports_healthy(
    start_server: Callable[..., DaphneServer], redis_url: str, fault_rooms: tuple[str, ...]
) -> None:
    """What the restart test judges recovery by, on its own: a process on Redis whose room is
    quiet (its hub waiting on the channel layer) answers /healthz with 200."""
    server = start_server(REDIS_URL=redis_url, REDIS_PREFIX=unique_prefix())
    viewer = Viewer("ws", [server.port], "demo", await room_last_seq(server.port, "demo"), 0)
    await start_viewers([viewer])
    statuses = []
    for _ in range(3):
        statuses.append(await healthz(server.port))
        await asyncio.sleep(0.5)
    await viewer.stop()
    assert statuses == [200] * 3


@pytest.mark.redis
async def test_a_killed_daphne_s_clients_resume_on_the_survivor_or_the_restarted_process(
    start_server: Callable[..., DaphneServer], redis_url: str, fault_rooms: tuple[str, ...]
) -> None:
    """SIGKILL one of two daphne processes (on Redis) under open WebSocket, SSE and long-poll
    viewers while posts keep coming: viewers that may use either process (behind a proxy) move to
    the survivor, those bound to the killed one wait for it to be restarted on its port; all catch
    up, each with every seq of the log once, in order."""
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": unique_prefix()}
    doomed, survivor = start_server(**env), start_server(**env)
    slug = "fault-kill"
    start = await room_last_seq(doomed.port, slug)
    both, alone = [doomed.port, survivor.port], [doomed.port]
    on_doomed = [
        Viewer(transport, ports, slug, start, seed)
        for seed, (transport, ports) in enumerate(
            (t, ports) for t in ("ws", "sse", "poll") for ports in (both, both, alone, alone)
        )
    ]
    bystanders = [
        Viewer(t, [survivor.port], slug, start, 100 + n) for n, t in enumerate(("ws", "sse", "poll"))
    ]
    viewers = on_doomed + bystanders
    await start_viewers(viewers)
    cookies = await in_thread(sessions, survivor, ["alice", "bob", "carol"])
    writers = [
        Writer("alice", "ws", [survivor.port], slug, cookies["alice"]),
        Writer("bob", "ws", both, slug, cookies["bob"]),  # its process dies under it
        Writer("carol", "http", both, slug, cookies["carol"]),
    ]
    posting = asyncio.gather(*(writer.run(120, rate=15) for writer in writers))

    await asyncio.sleep(2.5)
    assert doomed.process is not None
    killed = doomed.process.pid
    await in_thread(doomed.stop, signal.SIGKILL)
    killed_at = asyncio.get_running_loop().time()
    await asyncio.sleep(1.5)
    await in_thread(doomed.start)  # a new process on the same port
    assert doomed.process.pid != killed
    await posting

    log, last_seq = await log_seqs(survivor.port, slug, start)
    assert gapless(log, start, last_seq)
    assert_writes_in_log(writers, log)
    assert sum(len(writer.acks) for writer in writers) >= 300
    await caught_up(viewers, last_seq, timeout=30)
    assert_exactly_once(viewers, log)
    assert not [viewer for viewer in viewers if viewer.resets]
    for viewer in on_doomed:
        resumed_on = [port for at, port in viewer.hellos if at > killed_at]
        assert resumed_on, f"{viewer!r} did not reconnect"
        if viewer.ports == alone:
            assert set(resumed_on) == {doomed.port}
    assert survivor.port in {port for viewer in on_doomed for at, port in viewer.hellos if at > killed_at}
    assert all(len(viewer.hellos) == 1 for viewer in bystanders), "the survivor's own viewers were disturbed"
    assert not [writer.errors for writer in writers if writer.errors]
    await stop_all(viewers)


_stalled: list[StalledClient] = []  # closed after each test


class StalledClient:
    """A WebSocket or SSE client on a raw socket with a tiny receive window, which opens its
    stream and then reads nothing until told to."""

    def __init__(self, transport: str, port: int, slug: str, after: int) -> None:
        self.transport = transport
        self.port = port
        self.path = (
            f"/ws/rooms/{slug}/?after={after}" if transport == "ws" else f"/rooms/{slug}/events?after={after}"
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)
        self.received = b""  # everything after the response's head
        self._pinger: asyncio.Task[None] | None = None
        _stalled.append(self)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, (HOST, self.port))
        key = base64.b64encode(b"a stalled client").decode()  # 16 bytes
        upgrade = f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        extra = upgrade + "Sec-WebSocket-Version: 13\r\n" if self.transport == "ws" else ""
        request = f"GET {self.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n{extra}\r\n"
        await loop.sock_sendall(self.sock, request.encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):  # a byte at a time: take the head, nothing after it
            byte = await loop.sock_recv(self.sock, 1)
            assert byte, "closed before the response"
            head += byte
        assert head.startswith(b"HTTP/1.1 101" if self.transport == "ws" else b"HTTP/1.1 200"), head
        if self.transport == "ws":
            self._pinger = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        """Keep writing now and then (a client that does not read may still send): daphne closes
        a WebSocket whose client says nothing for 20 s and then misses its ping's answer."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(5)
            await loop.sock_sendall(self.sock, mask_frame(OP_TEXT, b'{"type":"ping"}'))

    def kernel_queued(self) -> int:
        """Bytes sent to this client that are still in the kernel: unread in our socket, or not
        yet acknowledged in the server's (/proc/net/tcp's tx_queue)."""
        unread = array.array("i", [0])
        fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, unread)
        local = f"0100007F:{self.port:04X}"
        remote = f"0100007F:{self.sock.getsockname()[1]:04X}"
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return unread[0] + int(fields[4].split(":")[0], 16)
        raise AssertionError("the server's side of the stalled connection is gone")

    async def read_until(self, seq: int, timeout: float) -> list[tuple[int, int]]:
        """Read until event `seq` has arrived; every event's (seq, offset in the stream)."""
        loop = asyncio.get_running_loop()
        pattern = re.compile(rb'"seq":(\d+)' if self.transport == "ws" else rb"\nid: (\d+)\n")
        deadline = loop.time() + timeout
        while True:
            found = [(int(m.group(1)), m.start()) for m in pattern.finditer(self.received)]
            if found and found[-1][0] >= seq:
                return found
            assert loop.time() < deadline, f"{self.transport}: got {len(found)} events, not up to {seq}"
            chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 1 << 20), deadline - loop.time())
            assert chunk, "the server closed the stalled stream"
            self.received += chunk

    def close(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        self.sock.close()


def fell_behind_at(log: str, sink: str) -> list[int]:
    """The cursors at which the server stopped writing live to a client of this sink type."""
    return [int(n) for n in re.findall(rf"a {sink} client fell behind at seq (\d+)", log)]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def latencies(viewer: Viewer, writers: list[Writer]) -> list[float]:
    """Seconds from each acknowledged post's sending to its arrival at the viewer."""
    return [viewer.arrivals[seq] - sent for writer in writers for seq, sent in writer.sent_at.items()]


SERVER_BOUND = 512 * 1024  # what the server buffers for a client before it stops writing live to it


async def test_a_client_that_stops_reading_stays_bounded_and_slows_nobody(
    server: DaphneServer, fault_rooms: tuple[str, ...]
) -> None:
    """A WebSocket and an SSE client stop reading during a burst of several MB of posts: the
    server keeps at most its 512 KiB bound (and a batch) in its own buffer for each, then stops
    writing to them; the readers that keep up (one per transport) see the same latency as before
    the stall; when the stalled clients read again they get every seq once, in order, the rest
    resynced from the log."""
    slug = "fault-slow"
    start = await room_last_seq(server.port, slug)
    fast = [Viewer(t, [server.port], slug, start, n) for n, t in enumerate(("ws", "sse", "poll"))]
    await start_viewers(fast)
    cookies = await in_thread(sessions, server, ["alice", "bob"])
    filler = " " + "😀" * 480  # about 1.9 kB of UTF-8 a post

    def writers() -> list[Writer]:
        return [Writer(user, "ws", [server.port], slug, cookies[user]) for user in ("alice", "bob")]

    before = writers()
    await run_all(*(writer.run(100, rate=0, filler=filler) for writer in before))
    stalled_from = await room_last_seq(server.port, slug)
    stalled = [StalledClient(transport, server.port, slug, stalled_from) for transport in ("ws", "sse")]
    for client in stalled:
        await client.open()
    # Post until an unbounded buffer would hold far more than the bound, whatever the kernel
    # holds (the server socket's send buffer grows to several MB on loopback).
    during = writers()
    posted = 0
    while (
        len(during) * posted * len(filler.encode()) - max(c.kernel_queued() for c in stalled)
        < 4 * SERVER_BOUND
    ):
        await run_all(*(writer.run(200, rate=0, filler=filler, first=posted) for writer in during))
        posted += 200

    log, last_seq = await log_seqs(server.port, slug, start)
    assert gapless(log, start, last_seq)
    assert_writes_in_log(before + during, log)
    await caught_up(fast, last_seq, timeout=30)
    assert_exactly_once(fast, log)
    for viewer in fast:  # nobody waited for the clients that stopped reading
        usual = percentile(latencies(viewer, before), 0.95)
        meanwhile = percentile(latencies(viewer, during), 0.95)
        assert meanwhile < max(3 * usual, usual + 0.25), (
            f"{viewer.transport}: p95 {usual:.3f} -> {meanwhile:.3f} s"
        )

    for client, sink in zip(stalled, ("RoomConsumer", "SseSink"), strict=True):
        (behind,) = fell_behind_at(server.log(), sink)
        in_kernel = client.kernel_queued()
        events = await client.read_until(last_seq, timeout=60)
        assert [seq for seq, _ in events] == [seq for seq in log if seq > stalled_from], client.transport
        # What the client read before the first event resynced from the log was waiting for it
        # when it started reading again: in the kernel, or in the server's own buffer.
        pending = next(offset for seq, offset in events if seq > behind)
        in_server = pending - in_kernel
        assert in_server <= SERVER_BOUND + 128 * 1024, (
            f"{client.transport}: {in_server} bytes held by the server"
        )
        assert len(client.received) - in_kernel > 3 * SERVER_BOUND  # what an unbounded buffer would hold
        client.close()
    await stop_all(fast)


def hold_write_lock(database_url: str, slug: str, seconds: float) -> None:
    """Hold, for `seconds`, the lock every post into room `slug` needs (another process's long
    write, a backup's copy): SQLite's write lock, or on PostgreSQL the room's row, which each
    post updates to take its seq."""
    if database_url.startswith("sqlite:///"):
        lite = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        try:
            lite.execute("BEGIN IMMEDIATE")
            time.sleep(seconds)
            lite.execute("COMMIT")
        finally:
            lite.close()
        return
    import psycopg

    with psycopg.connect(database_url) as connection:  # one transaction, committed on exit
        locked = connection.execute("SELECT id FROM chat_room WHERE slug = %s FOR UPDATE", [slug]).fetchone()
        assert locked is not None
        time.sleep(seconds)


async def test_a_write_burst_waits_for_a_held_lock_and_fails_no_post(
    start_server: Callable[..., DaphneServer], e2e_env: dict[str, str], fault_rooms: tuple[str, ...]
) -> None:
    """Ten writers post messages and danmaku as fast as they are answered, over WebSocket and
    HTTP, through two daphne processes on one database, while another connection holds the lock
    they need for 3 s (SQLite's write lock; the room's row on PostgreSQL): writers wait for the
    lock instead of failing; every post is
    acknowledged, the log is gapless and holds exactly the acknowledged posts, and viewers of both
    processes receive all of it once, in order."""
    one, two = start_server(), start_server()
    slug = "fault-burst"
    start = await room_last_seq(one.port, slug)
    placed = (("ws", one), ("sse", two), ("poll", one), ("ws", two))
    viewers = [
        Viewer(transport, [server.port], slug, start, n) for n, (transport, server) in enumerate(placed)
    ]
    await start_viewers(viewers)
    users = [f"writer{n}" for n in range(10)]
    cookies = await in_thread(sessions, one, users)
    writers = [
        Writer(user, "ws" if n % 2 else "http", [(one, two)[n // 2 % 2].port], slug, cookies[user])
        for n, user in enumerate(users)
    ]
    kinds = ["danmaku" if n % 3 == 0 else "message" for n in range(len(writers))]
    burst = asyncio.gather(
        *(writer.run(40, rate=0, kind=kind) for writer, kind in zip(writers, kinds, strict=True))
    )
    await asyncio.sleep(0.5)
    await in_thread(hold_write_lock, e2e_env["DATABASE_URL"], slug, 3.0)
    await burst

    assert not [writer.errors for writer in writers if writer.errors]
    assert not [writer.unanswered for writer in writers if writer.unanswered]
    acked = sorted(seq for writer in writers for seq in writer.acks.values())
    assert len(acked) == 400
    log, last_seq = await log_seqs(two.port, slug, start)
    assert acked == log == list(range(start + 1, last_seq + 1))
    # Posts did meet the held lock (they waited, they did not fail).
    assert max(latency for writer in writers for latency in writer.latencies) > 2.0
    await caught_up(viewers, last_seq, timeout=30)
    assert_exactly_once(viewers, log)
    await stop_all(viewers)


HERD = 1000


@pytest.mark.timeout(300)  # its own waits bound it; connecting 1,000 clients takes 10-60 s
async def test_a_thousand_clients_reconnect_at_once_after_a_restart(
    server: DaphneServer, fault_rooms: tuple[str, ...]
) -> None:
    """A thousand viewers (nine in ten on WebSocket, the rest on SSE) lose their server to a
    restart and all come back to it on the same port while posts continue: the backoff's jitter
    spreads their retries and reconnections, the server stays up and healthy, and every viewer
    resumes with every seq once, in order."""
    slug = "fault-herd"
    loop = asyncio.get_running_loop()
    start = await room_last_seq(server.port, slug)
    viewers = [Viewer("sse" if n % 10 == 0 else "ws", [server.port], slug, start, n) for n in range(HERD)]
    await start_viewers(viewers, timeout=120)
    cookies = await in_thread(sessions, server, ["alice", "bob"])
    await Writer("alice", "ws", [server.port], slug, cookies["alice"]).run(20, rate=0)

    stopping_at = loop.time()
    await in_thread(server.stop)  # SIGTERM, as a deploy's restart does
    await in_thread(server.start)  # the same port
    up_at = loop.time()
    writer = Writer("bob", "ws", [server.port], slug, cookies["bob"])
    posting = asyncio.create_task(writer.run(100, rate=10))
    statuses: list[int] = []
    while not all(viewer.connected.is_set() for viewer in viewers):
        assert loop.time() - up_at < 90, f"{sum(v.connected.is_set() for v in viewers)} of {HERD} back"
        statuses.append(await healthz(server.port))  # it answers while the herd comes in
        await asyncio.sleep(0.5)
    await posting

    assert server.process is not None
    assert server.process.poll() is None
    assert statuses
    assert set(statuses) == {200}
    assert await healthz(server.port) == 200
    log, last_seq = await log_seqs(server.port, slug, start)
    assert gapless(log, start, last_seq)
    assert not writer.errors
    await caught_up(viewers, last_seq, timeout=30)
    assert_exactly_once(viewers, log)
    assert not [viewer for viewer in viewers if viewer.resets]
    assert all(viewer.hellos[-1][0] > stopping_at for viewer in viewers)  # each one came back
    # The reconnections spread over seconds instead of coming in one instant. (The jitter itself is
    # backoff.js's, checked in a real browser by test_browser.py; when this client's own retries
    # fire is not asserted: its event loop, busy noticing a thousand dropped connections, bunches
    # them by as much as the machine is loaded.)
    back = [viewer.hellos[-1][0] - up_at for viewer in viewers]
    reconnections = Counter(int(at * 10) for at in back)
    # (Half a second between the 10th and 90th percentiles: a herd comes within a tenth; a run on
    # a quiet machine once spread them over 0.88 s, as the server now answers each one sooner.)
    assert percentile(back, 0.9) - percentile(back, 0.1) > 0.5, sorted(reconnections.items())
    # Never most of them in one tenth of a second (a herd); on a loaded machine this client's
    # loop was seen bunching 307 of 1,000 into one, while the rest spread over six seconds.
    assert max(reconnections.values()) < 0.5 * HERD, sorted(reconnections.items())
    await stop_all(viewers)
