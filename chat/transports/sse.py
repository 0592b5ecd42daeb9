"""The SSE transport: a read-only stream of a room for viewers and overlays (docs/PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from chat.clients import header, query_param
from chat.domain.eventlog import log_position
from chat.domain.inputs import parse_cursor, parse_epoch, parse_max_rate
from chat.domain.wire import dumps, hello_payload, reset_frame, sse_block
from chat.errors import ChatError, private_room
from chat.extensions import HTTP_WRITER, scope_extension
from chat.realtime.batch import Batch
from chat.realtime.subscription import Subscription, resume_point
from chat.types import Scope, Send

from . import grip
from .direct import DirectHttpWriter
from .http import GetEndpoint, route_room, scope_presence, send_error, still_readable
from .language import error_text
from .token_watch import watch_token

# A comment at least this often keeps proxies from closing an idle stream (docs/PROTOCOL.md).
KEEPALIVE_SECS = 15.0
# A stream whose client has not taken this much is behind: live events stop and it catches up
# from the log once it has read all but SSE_DRAINED_BYTES (as for WebSocket, websocket.py).
SSE_LAG_BYTES = 512 * 1024
SSE_DRAINED_BYTES = 64 * 1024
# How long browsers wait before reconnecting a dropped stream.
RETRY_MS = 3000

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer this response
    (b"x-content-type-options", b"nosniff"),
]


class SseSink:
    """Writes the stream's chunks straight to the response, in order."""

    def __init__(self, send: Send, scope: Scope, room_id: int) -> None:
        self.send = send
        self.direct: DirectHttpWriter | None = scope_extension(scope, HTTP_WRITER)
        self.scope = scope
        self.room_id = room_id
        self.last_write = asyncio.get_running_loop().time()
        self.revoked = asyncio.Event()  # set when the client may no longer read the room
        self.refusal: ChatError = private_room()  # and why
        self._checks: set[asyncio.Task[None]] = set()

    async def write(self, text: str) -> None:
        self.last_write = asyncio.get_running_loop().time()
        await self.send({"type": "http.response.body", "body": text.encode(), "more_body": True})

    async def write_batch(self, batch: Batch) -> None:
        # Encoded once per batch for every SSE viewer; through daphne without a direct writer.
        if self.direct is not None and self.direct.write(*batch.sse_bytes):
            self.last_write = asyncio.get_running_loop().time()
        else:
            await self.write(batch.sse_frame)
        if batch.changes_access:
            task = asyncio.create_task(self._recheck())
            self._checks.add(task)
            task.add_done_callback(self._checks.discard)

    def lagging(self) -> bool:
        """The client has not taken SSE_LAG_BYTES of what we wrote (see realtime/subscription.py)."""
        return self.direct is not None and self.direct.buffered() > SSE_LAG_BYTES

    def drained(self) -> bool:
        return self.direct is None or self.direct.buffered() < SSE_DRAINED_BYTES

    async def _recheck(self) -> None:
        if not await still_readable(self.scope, self.room_id):
            self.revoked.set()

    def end(self, refusal: ChatError) -> None:
        """The stream's token was revoked or expired (token_watch.py)."""
        if not self.revoked.is_set():
            self.refusal = refusal
            self.revoked.set()

    async def write_presence(self, frame: str) -> None:
        await self.write(sse_block("presence", frame))

    async def write_reset(self, frame: str) -> None:
        await self.write(sse_block("reset", frame))


async def room_events(scope: Scope, send: Send) -> None:
    """`GET /rooms/<slug>/events`: hello, the backlog after the cursor, then live events."""
    if grip.is_link_request(scope):  # Pushpin recovering what it missed (grip.py)
        await grip.answer_link(scope, send)
        return
    try:
        # EventSource resends the last id it saw when it reconnects: that wins over the URL's.
        after = parse_cursor(header(scope, b"last-event-id") or query_param(scope, "after"))
        epoch = parse_epoch(query_param(scope, "epoch"))
        max_rate = parse_max_rate(query_param(scope, "max_rate"))
        room = await route_room(scope, connecting=True)
    except ChatError as error:
        await send_error(scope, send, error)
        return
    user: Any = scope.get("user")
    key, name = scope_presence(scope)
    held = grip.via_pushpin(scope) and await grip.hold_stream(
        scope, send, room, after, epoch, (key, name), max_rate
    )
    if held:
        return  # held by Pushpin (grip.py)
    sink = SseSink(send, scope, room.pk)
    subscription = Subscription(room.pk, sink, key, name, max_rate)
    unwatch = watch_token(scope.get("api_token"), sink.end)
    try:
        await subscription.open()
        last_seq, log_epoch = await database_sync_to_async(log_position)(room.pk)
        hello = hello_payload(room, last_seq, user, subscription.greeting_presence(), log_epoch)
        # `retry` goes inside the first event: a block of its own would reach clients as an empty
        # event (EventSource skips it, other clients do not).
        head = f"retry: {RETRY_MS}\n" + sse_block("hello", dumps(hello))
        cursor, reset = resume_point(after, last_seq, settings.CHAT_BACKLOG_MAX, epoch, log_epoch)
        if reset is not None:
            head += sse_block("reset", dumps(reset_frame(last_seq, reset, log_epoch)))
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        if sink.direct is not None:
            sink.direct.hold()  # a stopping server cuts the stream; the client resumes elsewhere
        await sink.write(head)
        await subscription.start(cursor)
        loop = asyncio.get_running_loop()
        while not sink.revoked.is_set():  # live events arrive through the sink; this keeps the line warm
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    sink.revoked.wait(), max(0.0, sink.last_write + KEEPALIVE_SECS - loop.time())
                )
            if loop.time() - sink.last_write >= KEEPALIVE_SECS:
                await sink.write(": keep-alive\n\n")
        # Private now, no longer a member, the overlay key changed, or the token was revoked or
        # expired: say so and end the response (EventSource then reconnects, and is refused with
        # a 403 or 401 it does not retry). Not `event: error`: EventSource reports its own
        # failures under that name.
        await sink.write(sse_block("refused", await error_text(scope, sink.refusal)))
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        unwatch()
        subscription.close()


endpoint = GetEndpoint(room_events)
