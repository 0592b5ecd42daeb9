"""The SSE transport: a read-only stream of a room for viewers and overlays (docs/PROTOCOL.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from .asgi_http import GetEndpoint, Scope, Send, header, query_param, route_room, scope_presence, send_error
from .errors import ChatError
from .eventlog import current_last_seq
from .hub import Batch
from .params import parse_cursor
from .stream import Subscription, resume_point
from .wire import dumps, hello_payload, sse_block

# A comment at least this often keeps proxies from closing an idle stream (DESIGN: <= 15 s).
KEEPALIVE_SECS = 15.0
# How long browsers wait before reconnecting a dropped stream.
RETRY_MS = 3000

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer this response
]


class SseSink:
    """Writes the stream's chunks straight to the response, in order."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.last_write = asyncio.get_running_loop().time()

    async def write(self, text: str) -> None:
        self.last_write = asyncio.get_running_loop().time()
        await self.send({"type": "http.response.body", "body": text.encode(), "more_body": True})

    async def write_batch(self, batch: Batch) -> None:
        await self.write(batch.sse_frame)

    async def write_presence(self, frame: str) -> None:
        await self.write(sse_block("presence", frame))


async def room_events(scope: Scope, send: Send) -> None:
    """`GET /rooms/<slug>/events`: hello, the backlog after the cursor, then live events."""
    try:
        # EventSource resends the last id it saw when it reconnects: that wins over the URL's.
        after = parse_cursor(header(scope, b"last-event-id") or query_param(scope, "after"))
        room = await route_room(scope)
    except ChatError as error:
        await send_error(send, error)
        return
    user: Any = scope.get("user")
    key, name = scope_presence(scope)
    sink = SseSink(send)
    subscription = Subscription(room.pk, sink, key, name)
    try:
        await subscription.open()
        last_seq = await database_sync_to_async(current_last_seq)(room.pk)
        hello = hello_payload(room, last_seq, user, subscription.greeting_presence())
        head = f"retry: {RETRY_MS}\n\n" + sse_block("hello", dumps(hello))
        cursor, reset = resume_point(after, last_seq, settings.CHAT_BACKLOG_MAX)
        if reset is not None:
            head += sse_block("reset", dumps({"type": "reset", "last_seq": last_seq, "reason": reset}))
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await sink.write(head)
        await subscription.start(cursor)
        loop = asyncio.get_running_loop()
        while True:  # live events arrive through the sink; this loop only keeps the line warm
            await asyncio.sleep(max(0.0, sink.last_write + KEEPALIVE_SECS - loop.time()))
            if loop.time() - sink.last_write >= KEEPALIVE_SECS:
                await sink.write(": keep-alive\n\n")
    finally:
        subscription.close()


endpoint = GetEndpoint(room_events)
