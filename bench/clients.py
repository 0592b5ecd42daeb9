"""Lean viewer and writer clients: WebSocket, SSE and long-poll on raw asyncio connections.

The load generator shares two cores with the server, so every cycle it spends is a cycle the
server does not get. Library clients (websockets, httpx) parse each frame through several
layers; these parse only what the benchmark needs: the post number and send time embedded in
each message's text (`bench <n> <unix time>`), found with one regular expression per frame,
and the cursor (the last seq) to resume from after a reconnect.

A viewer records what it receives in a `Viewer`: a bitmap of post numbers (so lost and
duplicated posts are exact) and the worker's shared latency `Histogram`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from abc import ABC, abstractmethod
from typing import Any

from .histogram import Histogram

POST_PREFIX = "bench"
POST_PATTERN = re.compile(rb'"text":"bench (\d+) (\d+\.\d+)"')
LAST_SEQ_PATTERN = re.compile(rb'"last_seq":(\d+)')
NONCE_PATTERN = re.compile(rb'"nonce":(\d+)')
FRAME_TYPE_PATTERN = re.compile(rb'^\{"type":"([a-z_]+)"')
PONG_FRAME = b'{"type":"pong"'  # the answer to a `ping` frame (docs/PROTOCOL.md)

# WebSocket opcodes (RFC 6455, section 5.2).
OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
CLOSE_NORMAL = 1000

# Engine.IO v4 packet types (socket.io's transport), as the first character of a text frame.
EIO_OPEN = b"0"
EIO_PING = b"2"
EIO_PONG = "3"
SIO_CONNECT = "40"
SIO_EVENT = b"42"
SIO_ACK = b"43"


def post_text(number: int) -> str:
    """A message's text: its post number and the moment it is sent (same clock everywhere)."""
    return f"{POST_PREFIX} {number} {time.time():.6f}"


class Tally:
    """Counters shared by every viewer of one worker process."""

    def __init__(self) -> None:
        self.histogram = Histogram()
        self.duplicates = 0
        self.reordered = 0
        self.resets = 0
        self.reconnects = 0
        self.errors: dict[str, int] = {}
        self.other_frames: dict[str, int] = {}
        self.first_arrival = 0.0
        self.last_arrival = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def other(self, kind: str) -> None:
        self.other_frames[kind] = self.other_frames.get(kind, 0) + 1


class Viewer:
    """One viewer's record: which posts it got (a bitmap), its cursor, its readiness."""

    __slots__ = ("cursor", "expected", "got", "last_number", "ready", "room", "seen", "tally")

    def __init__(self, tally: Tally, room: int) -> None:
        self.tally = tally
        self.room = room
        self.seen: bytearray | None = None  # allocated when the posts start
        self.expected = 0
        self.got = 0
        self.last_number = -1
        self.cursor: int | None = None  # last seq seen (chat server only)
        self.ready = asyncio.Event()

    def expect(self, total: int, rooms: int) -> None:
        """Posts are numbered 0..total-1 and post n goes to room n % rooms."""
        self.seen = bytearray(total)
        self.expected = total // rooms + (self.room < total % rooms)

    def record(self, posts: list[tuple[bytes, bytes]], now: float) -> None:
        seen = self.seen
        if seen is None or not posts:
            return
        tally = self.tally
        add = tally.histogram.add
        size = len(seen)
        for number_text, sent_text in posts:
            number = int(number_text)
            if number >= size:
                continue
            if seen[number]:
                tally.duplicates += 1
                continue
            seen[number] = 1
            self.got += 1
            if number < self.last_number:
                tally.reordered += 1
            self.last_number = number
            add((now - float(sent_text)) * 1000.0)
        if not tally.first_arrival:
            tally.first_arrival = now
        tally.last_arrival = now


def mask_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask, RFC 6455 section 5.3)."""
    key = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = bytes([0x80 | opcode, 0x80 | length])
    elif length < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    repeated = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    return head + key + masked


class WebSocketClient(asyncio.Protocol, ABC):
    """A minimal WebSocket client: handshake, frame parsing, ping answers, masked sends.

    No extensions are offered, so no server compresses (daphne accepts none anyway).
    Subclasses implement `on_text(payload, now)`.
    """

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.headers = headers or {}
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._handshaking = True
        self._buffer = b""
        self._fragments: list[bytes] = []
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"{extra}\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed during the handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        if self._handshaking:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = data
                return
            status = data[: data.find(b"\r\n")]
            if b" 101 " not in status:
                self.opened.set_exception(ConnectionError(f"handshake refused: {status.decode()}"))
                assert self.transport is not None
                self.transport.close()
                return
            self._handshaking = False
            self.opened.set_result(None)
            data = data[end + 4 :]
        now = time.time()
        pos = 0
        size = len(data)
        while size - pos >= 2:
            first = data[pos]
            length = data[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > size:
                break
            payload = data[start:end]
            pos = end
            opcode = first & 0x0F
            if first & 0x80 and opcode == OP_TEXT:
                self.on_text(payload, now)
            elif opcode in (OP_TEXT, OP_CONTINUATION):
                self._fragments.append(payload)
                if first & 0x80:
                    whole = b"".join(self._fragments)
                    self._fragments = []
                    self.on_text(whole, now)
            elif opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                if not self.closing:
                    self.closing = True
                    self.send_frame(OP_CLOSE, payload[:2])
                assert self.transport is not None
                self.transport.close()
                return
        if pos < size:
            self._buffer = data[pos:]

    @abstractmethod
    def on_text(self, payload: bytes, now: float) -> None:
        """One whole text message from the server."""

    def send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(mask_frame(opcode, payload))

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode())

    def close(self) -> None:
        """Start the closing handshake; `closed` resolves when the socket is gone."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self.closing and not self._handshaking:
            self.closing = True
            self.send_frame(OP_CLOSE, CLOSE_NORMAL.to_bytes(2, "big"))
            asyncio.get_running_loop().call_later(2.0, self.transport.close)
        else:
            self.transport.close()


class ChatViewerConnection(WebSocketClient):
    """A viewer of this project's server: `hello`, then `events` frames."""

    def __init__(self, viewer: Viewer, host: str, port: int, path: str) -> None:
        super().__init__(host, port, path)
        self.viewer = viewer
        self.resync = False

    def on_text(self, payload: bytes, now: float) -> None:
        viewer = self.viewer
        if payload.startswith(b'{"type":"events"'):
            viewer.record(POST_PATTERN.findall(payload), now)
            last = payload.rfind(b'{"seq":')
            if last >= 0:
                viewer.cursor = int(payload[last + 7 : payload.index(b",", last)])
            return
        match = FRAME_TYPE_PATTERN.match(payload)
        kind = match.group(1).decode() if match else "?"
        if kind == "hello":
            if viewer.cursor is None:
                viewer.cursor = int(LAST_SEQ_PATTERN.search(payload).group(1))  # type: ignore[union-attr]
            viewer.ready.set()
        elif kind == "presence":
            pass
        elif kind == "reset":
            viewer.tally.resets += 1
            viewer.cursor = int(LAST_SEQ_PATTERN.search(payload).group(1))  # type: ignore[union-attr]
        else:
            # Anything else (a "resync" request from a hub that dropped this connection's
            # backlog, say) is counted, and answered as a client would: reconnect from the cursor.
            viewer.tally.other(kind)
            if "resync" in kind:
                self.resync = True
                self.close()


class PingingViewerConnection(ChatViewerConnection):
    """A viewer that also measures the protocol's ping round trip: `ping` sent, `pong` read."""

    def __init__(self, viewer: Viewer, host: str, port: int, path: str) -> None:
        super().__init__(viewer, host, port, path)
        self._pong: asyncio.Future[float] | None = None

    def on_text(self, payload: bytes, now: float) -> None:
        pong = self._pong
        if payload.startswith(PONG_FRAME) and pong is not None and not pong.done():
            pong.set_result(now)
            return
        super().on_text(payload, now)

    async def ping(self) -> float:
        """Seconds from writing a `ping` frame to reading its `pong` (bound it by the caller)."""
        pong = self._pong = asyncio.get_running_loop().create_future()
        sent = time.time()
        self.send_text('{"type":"ping"}')
        try:
            return await pong - sent
        finally:
            self._pong = None


class SocketIoViewerConnection(WebSocketClient):
    """A viewer of a socket.io peer: Engine.IO v4 over WebSocket, events as `42[name, data]`."""

    def __init__(self, viewer: Viewer, host: str, port: int) -> None:
        super().__init__(host, port, "/socket.io/?EIO=4&transport=websocket")
        self.viewer = viewer

    def on_text(self, payload: bytes, now: float) -> None:
        if payload.startswith(SIO_EVENT):
            self.viewer.record(POST_PATTERN.findall(payload), now)
        elif payload == EIO_PING:
            self.send_text(EIO_PONG)
        elif payload.startswith(EIO_OPEN):
            self.send_text(SIO_CONNECT)
        elif payload.startswith(SIO_CONNECT.encode()):
            self.viewer.ready.set()


async def run_websocket_viewer(
    viewer: Viewer,
    host: str,
    port: int,
    slug: str,
    flavour: str,
    handshakes: asyncio.Semaphore,
    source: str = "",
) -> None:
    """Keep one viewer connected until cancelled, resuming from its cursor after a drop.
    `source`: the local address to connect from ("" lets the system choose)."""
    local = (source, 0) if source else None
    loop = asyncio.get_running_loop()
    while True:
        connection: WebSocketClient
        if flavour == "chat":
            query = f"?after={viewer.cursor}" if viewer.cursor is not None else ""
            connection = ChatViewerConnection(viewer, host, port, f"/ws/rooms/{slug}/{query}")
        else:
            connection = SocketIoViewerConnection(viewer, host, port)
        try:
            async with handshakes:
                await loop.create_connection(lambda c=connection: c, host, port, local_addr=local)  # type: ignore[misc]
                await connection.opened
                await asyncio.wait_for(viewer.ready.wait(), 60)
            await asyncio.shield(connection.closed)
        except asyncio.CancelledError:
            connection.close()
            raise
        except (OSError, TimeoutError) as error:
            viewer.tally.error(type(error).__name__)
            await asyncio.sleep(1)
        viewer.tally.reconnects += 1


class SseViewerConnection(asyncio.Protocol):
    """`GET /rooms/<slug>/events` over HTTP/1.1 (chunked), parsing `text/event-stream`."""

    def __init__(self, viewer: Viewer, host: str, port: int, path: str) -> None:
        self.viewer = viewer
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._head = True
        self._chunked = False
        self._raw = b""  # undecoded transfer bytes
        self._text = b""  # decoded stream, up to an incomplete event

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if self._head:
            data = self._raw + data
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._raw = data
                return
            head = data[:end].lower()
            if not head.startswith(b"http/1.1 200"):
                self.viewer.tally.error("sse_status_" + head[9:12].decode())
                self.close()
                return
            self._chunked = b"transfer-encoding: chunked" in head
            self._head = False
            self._raw = b""
            data = data[end + 4 :]
        if self._chunked:
            data = self._dechunk(data)
        self._events(self._text + data if self._text else data, now)

    def _dechunk(self, data: bytes) -> bytes:
        raw = self._raw + data if self._raw else data
        out = []
        pos = 0
        size = len(raw)
        while True:
            line_end = raw.find(b"\r\n", pos)
            if line_end < 0:
                break
            length = int(raw[pos:line_end].split(b";", 1)[0], 16)
            start = line_end + 2
            if start + length + 2 > size:
                break
            if length == 0:
                self.close()
                pos = size
                break
            out.append(raw[start : start + length])
            pos = start + length + 2
        self._raw = raw[pos:]
        return b"".join(out)

    def _events(self, text: bytes, now: float) -> None:
        end = text.rfind(b"\n\n")
        if end < 0:
            self._text = text
            return
        self._text = text[end + 2 :]
        complete = text[: end + 2]
        viewer = self.viewer
        viewer.record(POST_PATTERN.findall(complete), now)
        last_id = complete.rfind(b"\nid: ")
        if last_id >= 0 or complete.startswith(b"id: "):
            start = last_id + 5 if last_id >= 0 else 4
            viewer.cursor = int(complete[start : complete.index(b"\n", start)])
        if b"event: hello\n" in complete and not viewer.ready.is_set():
            if viewer.cursor is None:
                viewer.cursor = int(LAST_SEQ_PATTERN.search(complete).group(1))  # type: ignore[union-attr]
            viewer.ready.set()
        if b"event: reset\n" in complete:
            viewer.tally.resets += 1


async def run_sse_viewer(
    viewer: Viewer, host: str, port: int, slug: str, handshakes: asyncio.Semaphore
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        query = f"?after={viewer.cursor}" if viewer.cursor is not None else ""
        connection = SseViewerConnection(viewer, host, port, f"/rooms/{slug}/events{query}")
        try:
            async with handshakes:
                await loop.create_connection(lambda c=connection: c, host, port)  # type: ignore[misc]
                await asyncio.wait_for(viewer.ready.wait(), 60)
            await asyncio.shield(connection.closed)
        except asyncio.CancelledError:
            connection.close()
            raise
        except (OSError, TimeoutError) as error:
            viewer.tally.error(type(error).__name__)
            await asyncio.sleep(1)
        viewer.tally.reconnects += 1


POLL_TIMEOUT_SECS = 25


async def run_poll_viewer(
    viewer: Viewer, host: str, port: int, slug: str, handshakes: asyncio.Semaphore
) -> None:
    """Loop on `GET /rooms/<slug>/poll?after=<cursor>` over one kept-alive HTTP/1.1 connection."""
    while True:
        reader, writer = await _connect(viewer, host, port, handshakes)
        try:
            while True:
                query = (
                    f"?after={viewer.cursor}&timeout={POLL_TIMEOUT_SECS}" if viewer.cursor is not None else ""
                )
                request = f"GET /rooms/{slug}/poll{query} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
                if viewer.cursor is not None:
                    viewer.ready.set()  # anything after the cursor will reach this viewer
                status, head, body = await _http_exchange(reader, writer, request)
                now = time.time()
                if status != 200:
                    viewer.tally.error(f"poll_status_{status}")
                    await asyncio.sleep(1)
                    continue
                viewer.record(POST_PATTERN.findall(body), now)
                viewer.cursor = int(LAST_SEQ_PATTERN.search(body).group(1))  # type: ignore[union-attr]
                if b'"reset":' in body:
                    viewer.tally.resets += 1
                if b"connection: close" in head:
                    break
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            viewer.tally.error(type(error).__name__)
        finally:
            writer.close()
        viewer.tally.reconnects += 1


async def _connect(
    viewer: Viewer, host: str, port: int, handshakes: asyncio.Semaphore
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A new connection, opened among at most `handshakes` at once; tried again every second
    while it is refused (each refusal counted in the viewer's errors)."""
    while True:
        try:
            async with handshakes:
                return await asyncio.open_connection(host, port)
        except OSError as error:
            viewer.tally.error(type(error).__name__)
            await asyncio.sleep(1)


async def _http_exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bytes]:
    """Write one HTTP/1.1 request, read its answer: (status, lower-cased head, body)."""
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    length_at = head.find(b"content-length: ")
    length = int(head[length_at + 16 : head.index(b"\r\n", length_at)]) if length_at >= 0 else 0
    return int(head[9:12]), head, await reader.readexactly(length)


async def _socketio_post(host: str, port: int, path: str, packet: str) -> None:
    """What a polling Engine.IO client sends goes by POST, beside the waiting GET (as browsers
    do, on a connection of its own)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        body = packet.encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/plain;charset=UTF-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        status, _, _ = await _http_exchange(reader, writer, request + body)
        if status != 200:
            raise ValueError(f"POST answered {status}")
    finally:
        writer.close()


async def run_socketio_poll_viewer(
    viewer: Viewer, host: str, port: int, handshakes: asyncio.Semaphore
) -> None:
    """A viewer of a socket.io peer over Engine.IO v4's long-polling transport, socket.io's own
    fallback where WebSocket does not pass: the handshake `GET`, the namespace's connect
    (`40`) by POST, then `GET ...&sid=<sid>` in a loop over one kept-alive connection, each
    answer one or more packets separated by 0x1e. Reconnects (a new session) after a drop:
    socket.io does not resume, so what was sent meanwhile is lost to this viewer."""
    base = "/socket.io/?EIO=4&transport=polling"
    while True:
        reader, writer = await _connect(viewer, host, port, handshakes)
        try:
            request = f"GET {base} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
            status, _, body = await _http_exchange(reader, writer, request)
            if status != 200 or not body.startswith(EIO_OPEN):
                raise ValueError(f"handshake answered {status}")
            path = f"{base}&sid={json.loads(body[1:])['sid']}"
            await _socketio_post(host, port, path, SIO_CONNECT)
            request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
            open_session = True
            while open_session:
                status, head, body = await _http_exchange(reader, writer, request)
                now = time.time()
                if status != 200:
                    viewer.tally.error(f"poll_status_{status}")
                    break
                viewer.record(POST_PATTERN.findall(body), now)
                for packet in body.split(b"\x1e"):
                    if packet == EIO_PING:
                        await _socketio_post(host, port, path, EIO_PONG)
                    elif packet.startswith(SIO_CONNECT.encode()):
                        viewer.ready.set()
                    elif packet.startswith(b"1"):  # the server closed the session
                        open_session = False
                if b"connection: close" in head:
                    break
        except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as error:
            viewer.tally.error(type(error).__name__)
        finally:
            writer.close()
        viewer.tally.reconnects += 1


class WriterConnection(WebSocketClient):
    """A posting connection: sends messages, counts acks and refusals."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str], flavour: str) -> None:
        super().__init__(host, port, path, headers)
        self.flavour = flavour
        self.ready = asyncio.Event()
        self.acked: set[int] = set()  # post numbers the server acknowledged
        self.refused: dict[str, int] = {}
        self.last_ack = 0.0
        self.sent_at: dict[int, float] = {}
        self.ack_latency = Histogram()  # post sent -> its ack back: the write path alone

    def post(self, number: int) -> None:
        text = post_text(number)
        self.sent_at[number] = time.time()
        if self.flavour == "chat":
            self.send_text(f'{{"type":"message","text":"{text}","nonce":{number}}}')
        else:
            self.send_text(f'42{number}["message",{{"text":"{text}"}}]')

    def on_text(self, payload: bytes, now: float) -> None:
        if self.flavour == "chat":
            if payload.startswith(b'{"type":"ack"'):
                self.acknowledged(int(NONCE_PATTERN.search(payload).group(1)), now)  # type: ignore[union-attr]
            elif payload.startswith(b'{"type":"hello"'):
                self.ready.set()
            elif payload.startswith(b'{"type":"error"'):
                code = json.loads(payload).get("code", "?")
                self.refused[code] = self.refused.get(code, 0) + 1
        elif payload.startswith(SIO_ACK):
            self.acknowledged(int(payload[2 : payload.index(b"[")]), now)
        elif payload == EIO_PING:
            self.send_text(EIO_PONG)
        elif payload.startswith(EIO_OPEN):
            self.send_text(SIO_CONNECT)
        elif payload.startswith(SIO_CONNECT.encode()):
            self.ready.set()

    def acknowledged(self, number: int, now: float) -> None:
        self.acked.add(number)
        self.last_ack = now
        sent = self.sent_at.pop(number, None)
        if sent is not None:
            self.ack_latency.add((now - sent) * 1000)


async def open_writers(
    host: str, port: int, paths: list[str], headers: dict[str, str], flavour: str
) -> list[WriterConnection]:
    loop = asyncio.get_running_loop()
    writers = []
    for path in paths:
        writer = WriterConnection(host, port, path, headers, flavour)
        await loop.create_connection(lambda w=writer: w, host, port)  # type: ignore[misc]
        await writer.opened
        await asyncio.wait_for(writer.ready.wait(), 30)
        writers.append(writer)
    return writers


async def post_at_rate(
    writers: list[WriterConnection], rate: float, seconds: float, ack_wait: float
) -> dict[str, Any]:
    """Post `rate * seconds` messages, number n through writer n % len(writers), on schedule.

    Sends never wait for acks (a slow server queues them), so the offered rate holds; the
    result says when the last ack came back (waiting at most `ack_wait` s after the last send).
    """
    total = int(rate * seconds)
    loop = asyncio.get_running_loop()
    started = time.time()
    clock = loop.time()
    number = 0
    while number < total:
        due = min(total, int((loop.time() - clock) * rate) + 1)
        while number < due:
            writers[number % len(writers)].post(number)
            number += 1
        await asyncio.sleep(max(0.0, clock + number / rate - loop.time()))
    sent_until = time.time()
    deadline = loop.time() + ack_wait
    while sum(len(w.acked) + sum(w.refused.values()) for w in writers) < total and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    refused: dict[str, int] = {}
    ack_latency = Histogram()
    for writer in writers:
        ack_latency.merge(writer.ack_latency)
        for code, count in writer.refused.items():
            refused[code] = refused.get(code, 0) + count
    return {
        "posted": total,
        "acked": set().union(*(w.acked for w in writers)),
        "refused": refused,
        "started": started,
        "sent_until": sent_until,
        "last_ack": max((w.last_ack for w in writers), default=0.0),
        "ack_latency": ack_latency,
    }
