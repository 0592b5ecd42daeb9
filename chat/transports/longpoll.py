"""The long-poll transport, for networks where neither WebSocket nor SSE gets through."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from django.conf import settings

from chat.clients import query_param
from chat.domain.inputs import parse_cursor, parse_epoch, parse_int
from chat.domain.wire import WireEvent, dumps
from chat.errors import ChatError, private_room
from chat.extensions import HTTP_WRITER, scope_extension
from chat.realtime.batch import Batch
from chat.realtime.feed import RoomFeed
from chat.realtime.subscription import Subscription, resume_point
from chat.types import Scope, Send

from . import grip
from .direct import DirectHttpWriter
from .http import GetEndpoint, route_room, scope_presence, send_body, send_error, still_readable
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
        await send_error(scope, send, error)
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
                    async with asyncio.timeout(wait):  # no task of its own, as wait_for makes
                        await sink.arrived.wait()
            answer["events"] = list(sink.events)
            answer["last_seq"] = subscription.cursor
            if sink.reset is not None:
                answer["reset"] = sink.reset["reason"]
                answer["last_seq"] = sink.reset["last_seq"]
                answer["epoch"] = sink.reset["epoch"]
        # Private now, no longer a member, or the overlay key changed while the poll waited:
        # refused, as the next poll would be, rather than answered with what arrived.
        revoked = sink.refusal is None and sink.recheck and not await still_readable(scope, room.pk)
    finally:
        # Also when the client goes away mid-wait: the endpoint cancels this coroutine.
        unwatch()
        subscription.close()
    if sink.refusal is not None:  # not the events that arrived meanwhile
        await send_error(scope, send, sink.refusal)
        return
    if revoked:
        await send_error(scope, send, private_room())
        return
    assert subscription.feed is not None  # opened
    body = shared_answer(
        subscription.feed,
        subscription.presence_key,
        subscription.presence_name,
        cursor,
        answer["events"],
        answer["last_seq"],
        answer["epoch"],
        answer.get("reset"),
    )
    await send_body(send, 200, body)


# The polls a room's batch answers mostly get the same answer: the same events after the same
# cursor, the same presence. It is encoded once, for the first of them, and kept by what decides
# it; each of the others costs a lookup.
SHARED_ANSWERS_MAX = 256
SHARED_ANSWER_MAX_BYTES = 64 * 1024
_answers: dict[tuple[Any, ...], bytes] = {}


def forget_answers() -> None:
    """Drop the shared answers (tests: a new test's room may have an old one's primary key)."""
    _answers.clear()


def shared_answer(
    feed: RoomFeed,
    presence_key: str,
    presence_name: str,
    cursor: int,
    events: list[WireEvent],
    last_seq: int,
    epoch: str,
    reset: str | None = None,
) -> bytes:
    """A poll's answer, encoded: `events` after `cursor`, up to `last_seq` of `epoch` (or a
    `reset`), with the room's presence as the reader `presence_key` sees it. Shared by every
    poll it is the same for (`_answers`), which is decided by the room, the cursor, where it
    ends, the log epoch, and the presence it carries: the room's as it stands (its version) for
    a member already counted, the same plus one guest for any guest not yet counted, its own for
    a user not yet counted. The events between two seqs of one epoch are the same for every poll."""
    shared: tuple[Any, ...] | None = None
    if reset is None:
        member: Any
        if presence_key in feed.presence_keys:
            member = True
        elif presence_key.startswith("g:"):
            member = "g"
        else:
            member = (presence_key, presence_name)
        shared = (feed.room_id, cursor, last_seq, epoch, feed.presence_version, member)
        body = _answers.get(shared)
        if body is not None:
            return body
    answer: dict[str, Any] = {"events": events, "last_seq": last_seq, "epoch": epoch}
    if reset is not None:
        answer["reset"] = reset
    answer["presence"] = feed.presence_for(presence_key, presence_name).as_dict()
    body = dumps(answer).encode()
    if shared is not None and len(body) <= SHARED_ANSWER_MAX_BYTES:
        if len(_answers) >= SHARED_ANSWERS_MAX:
            _answers.clear()
        _answers[shared] = body
    return body


endpoint = GetEndpoint(room_poll)
