"""Drive the ASGI application (config/asgi.py) as browsers do: a WebSocket (`connect`), an SSE
stream (`SseStream`), a whole GET (`asgi_get`). Shared by the transport, web, realtime and
danmaku tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client as HttpClient

from config.asgi import application

ORIGIN = (b"origin", b"http://testserver")
HOST = (b"host", b"testserver")


def session_cookie(user: AbstractBaseUser | None) -> list[tuple[bytes, bytes]]:
    if user is None:
        return []
    client = HttpClient()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


class WebSocketClient:
    """A communicator that keeps frames it skipped, so a helper never loses one."""

    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.frames: list[dict[str, Any]] = []

    async def _read(self, timeout: float) -> dict[str, Any]:
        # Poll rather than `receive_from(timeout)`: asgiref cancels the application when a
        # receive times out, and "nothing more arrives" is something these tests check.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.comm.output_queue.empty():
            if loop.time() >= deadline:
                raise TimeoutError
            await asyncio.sleep(0.005)
        frame: dict[str, Any] = json.loads(await self.comm.receive_from(timeout=1))
        return frame

    async def next_frame(self, frame_type: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame of `frame_type`; others stay queued for later calls."""
        for index, frame in enumerate(self.frames):
            if frame["type"] == frame_type:
                return self.frames.pop(index)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self._read(max(0.01, deadline - loop.time()))
            if frame["type"] == frame_type:
                return frame
            self.frames.append(frame)

    async def receive_events(self, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while len(events) < count:
            events.extend((await self.next_frame("events", timeout))["events"])
        return events

    async def assert_silent(self, frame_type: str, wait: float = 0.3) -> None:
        with pytest.raises(asyncio.TimeoutError):
            await self.next_frame(frame_type, timeout=wait)

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a frame; the answer to it (ack, error or pong)."""
        await self.comm.send_to(text_data=json.dumps(payload))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while True:
            frame = await self._read(max(0.01, deadline - loop.time()))
            if frame["type"] in {"ack", "error", "pong"}:
                return frame
            self.frames.append(frame)

    async def send_raw(self, **data: Any) -> None:
        await self.comm.send_to(**data)

    async def disconnect(self) -> None:
        await self.comm.disconnect()


async def connect(
    path: str,
    user: AbstractBaseUser | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    origin: bytes = ORIGIN[1],
) -> WebSocketClient:
    cookie = await database_sync_to_async(session_cookie)(user)
    handshake = [HOST, (b"origin", origin), *cookie, *(headers or [])]
    comm = WebsocketCommunicator(application, path, headers=handshake)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    return WebSocketClient(comm)


def parse_sse(text: str) -> list[dict[str, str]]:
    """Complete SSE blocks of `text`: {"id", "event", "data"} or {"comment"}."""
    blocks = []
    for raw in text.split("\n\n")[:-1]:
        block: dict[str, str] = {}
        for line in raw.split("\n"):
            if line.startswith(":"):
                block["comment"] = line[1:].strip()
            elif ": " in line:
                field, value = line.split(": ", 1)
                block[field] = value
        if block:
            blocks.append(block)
    return blocks


class SseStream:
    """An SSE request driven at the ASGI level, so disconnects and cleanup are observable."""

    def __init__(self, url: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        parts = urlsplit(url)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "headers": [(b"host", b"testserver"), *(headers or [])],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        self.comm = ApplicationCommunicator(application, scope)
        self.text = ""
        self.status = 0
        self.headers: dict[bytes, bytes] = {}

    async def open(self) -> SseStream:
        await self.comm.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await self._next_output(5)
        self.status = start["status"]
        self.headers = dict(start["headers"])
        return self

    async def _next_output(self, timeout: float) -> dict[str, Any]:
        # Poll: asgiref cancels the application when a receive times out.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.comm.output_queue.empty():
            if loop.time() > deadline:
                raise TimeoutError
            await asyncio.sleep(0.005)
        message: dict[str, Any] = await self.comm.receive_output(1)
        return message

    async def blocks_until(self, predicate: Any, timeout: float = 5) -> list[dict[str, str]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            blocks = parse_sse(self.text)
            if predicate(blocks):
                return blocks
            message = await self._next_output(max(0.01, deadline - loop.time()))
            self.text += message.get("body", b"").decode()

    async def events_until(self, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        blocks = await self.blocks_until(lambda b: len([x for x in b if "id" in x]) >= count, timeout)
        return [
            {**json.loads(b["data"]), "sse_id": int(b["id"]), "sse_event": b["event"]}
            for b in blocks
            if "id" in b
        ]

    async def close(self) -> None:
        await self.comm.send_input({"type": "http.disconnect"})
        await self.comm.wait(timeout=5)


async def asgi_get(
    url: str, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[bytes, bytes], Any]:
    """A whole GET through the ASGI application (SSE and long-poll are routed there)."""
    return await asgi_get_opened(SseStream(url, headers))


async def asgi_post_status(url: str) -> tuple[int, dict[bytes, bytes], Any]:
    stream = SseStream(url)
    stream.comm.scope["method"] = "POST"
    return await asgi_get_opened(stream)


async def asgi_get_opened(stream: SseStream) -> tuple[int, dict[bytes, bytes], Any]:
    await stream.open()
    body = b""
    while True:
        message = await stream._next_output(60)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await stream.comm.wait(timeout=5)
    return stream.status, stream.headers, json.loads(body)


async def until(condition: Any, timeout: float = 5) -> None:
    """Wait until `condition()` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)
