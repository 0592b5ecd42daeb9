"""The long-poll transport, for networks where neither WebSocket nor SSE gets through."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from django.conf import settings

from chat.clients import query_param
from chat.domain.inputs import parse_cursor, parse_epoch, parse_int
from chat.domain.wire import WireEvent
from chat.errors import ChatError, private_room
from chat.extensions import HTTP_WRITER, scope_extension
from chat.realtime.batch import Batch
from chat.realtime.subscription import Subscription, resume_point
from chat.types import Scope, Send

from . import grip
from .direct import DirectHttpWriter
from .http import GetEndpoint, route_room, scope_presence, send_error, send_json, still_readable
from .token_watch import watch_token

POLL_TIMEOUT_DEFAULT = 25
# Below the 60 s idle timeout common to proxies and load balancers.
POLL_TIMEOUT_MAX = 55


class PollSink:
    """Collects what arrives while a poll waits."""

    def __init__(self) -> None:
        self.events: list[WireEvent] = []
        self.reset: dict[str, Any] | None = None  # the log went back while the poll waited
        self.arrived = asyncio.Event()
        self.recheck = False  # an event changed who may read: check before answering
        self.refusal: ChatError | None = None  # the poll's token was revoked or expired

    def end(self, refusal: ChatError) -> None:
        """The poll's token was revoked or expired (token_watch.py): answer it with `refusal`."""
        self.refusal = refusal
        self.arrived.set()

    async def write_batch(self, batch: Batch) -> None:
        self.events.extend(batch.events)
        if batch.changes_access:
            self.recheck = True
        self.arrived.set()

    async def write_presence(self, frame: str) -> None:
        return None  # each answer carries the presence of its moment

    async def write_reset(self, frame: str) -> None:
        self.events.clear()
        self.reset = json.loads(frame)
        self.arrived.set()

    def lagging(self) -> bool:
        return False  # nothing is written to the client until the poll is answered

    def drained(self) -> bool:
        return True


async def room_poll(scope: Scope, send: Send) -> None:
    """`GET /rooms/<slug>/poll?after=<seq>&timeout=<s>`: what is newer than `after`, waiting up
    to `timeout` seconds for something to arrive."""
    if grip.is_link_request(scope):  # Pushpin recovering what it missed (grip.py)
        await grip.answer_link(scope, send)
        return
    try:
        after = parse_cursor(query_param(scope, "after"))
        epoch = parse_epoch(query_param(scope, "epoch"))
        timeout = parse_int(query_param(scope, "timeout"), "timeout", low=0, high=POLL_TIMEOUT_MAX)
        room = await route_room(scope)
    except ChatError as error:
        await send_error(send, error)
        return
    key, name = scope_presence(scope)
    sink = PollSink()
    subscription = Subscription(room.pk, sink, key, name)
    unwatch = watch_token(scope.get("api_token"), sink.end)
    try:
        await subscription.open()
        last_seq, log_epoch = await subscription.position(after, epoch)
        cursor, reset = resume_point(after, last_seq, settings.CHAT_BACKLOG_MAX, epoch, log_epoch)
        answer: dict[str, Any] = {"events": [], "last_seq": cursor, "epoch": log_epoch}
        if reset is not None:
            answer["reset"] = reset
        elif after is not None:
            wait = POLL_TIMEOUT_DEFAULT if timeout is None else timeout
            if grip.via_pushpin(scope):
                held = {**answer, "presence": subscription.greeting_presence()}
                if await grip.hold_poll(scope, send, room, cursor, wait, held):
                    return  # Pushpin holds the poll (grip.py)
            await subscription.start(cursor)
            if not sink.events:
                writer: DirectHttpWriter | None = scope_extension(scope, HTTP_WRITER)
                if writer is not None:
                    writer.hold()  # a stopping server does not wait for this poll to time out
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sink.arrived.wait(), wait)
            answer["events"] = list(sink.events)
            answer["last_seq"] = subscription.cursor
            if sink.reset is not None:
                answer["reset"] = sink.reset["reason"]
                answer["last_seq"] = sink.reset["last_seq"]
                answer["epoch"] = sink.reset["epoch"]
        answer["presence"] = subscription.greeting_presence()
        # Private now, no longer a member, or the overlay key changed while the poll waited:
        # refused, as the next poll would be, rather than answered with what arrived.
        revoked = sink.refusal is None and sink.recheck and not await still_readable(scope, room.pk)
    finally:
        # Also when the client goes away mid-wait: the endpoint cancels this coroutine.
        unwatch()
        subscription.close()
    if sink.refusal is not None:  # not the events that arrived meanwhile
        await send_error(send, sink.refusal)
        return
    if revoked:
        await send_error(send, private_room())
        return
    await send_json(send, 200, answer)


endpoint = GetEndpoint(room_poll)
