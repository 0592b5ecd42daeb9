"""Long-polls answered below ASGI: the common poll of a big room costs no task, no coroutine.

At a thousand long-poll viewers of one room, every post answers a thousand held polls and brings
a thousand new ones. Through ASGI each poll is an application task and a stack of coroutines
(router, held place, endpoint, handler), a subscription, an event to wake it and two ASGI
messages back; on the machines here that was about 0.2 ms of the event loop per poll, and at
5,000 polls a second one process sat at the knee (docs/BENCHMARKS.md).

Most of those polls are alike: an anonymous reader (no session cookie, no token, no key, from
this site's own page) of a public room whose feed this process already has, asking for what
follows the seq it was last given. `answer_directly` takes such a request from the server's
request class (chat/transports/bounded.py) before an application is made for it:

- a cursor behind the room, with what follows it in the feed's memory: answered at once;
- a cursor at the room's last seq: held as a subscriber of the room's feed (`DirectPoll`), and
  answered from the broadcast itself, with the shared encoded answer (longpoll.py), when the next
  batch arrives, or empty when its timeout passes.

Everything else goes the usual way, through ASGI (`room_poll`): a signed-in reader, a token, a
key, another site's page, Pushpin, a first poll without a cursor, a reset, a room not yet
remembered, a held place that Redis counts or that would be refused, a request with pipelined
ones behind it. Those decide, refuse and explain in one place. A batch that changes who may
read (the room turned private) is checked once for all of a room's direct polls
(`ReadableCheck`), as a held ASGI poll checks its own.

The answer is the same bytes, the held place the same place, the presence the same guest member,
and the access log the same line as daphne's `handle_reply` would write (docs/DECISIONS.md, "The
third step").
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from chat.clients import client_address
from chat.domain.access import can_read
from chat.errors import private_room
from chat.guards.held import Held, held_connections
from chat.guards.origin import host_allowed
from chat.models import Room
from chat.realtime.batch import Batch
from chat.realtime.feed import RoomFeed
from chat.realtime.hub import Hub, get_hub
from chat.realtime.presence import presence_identity
from chat.types import Scope

from .direct import send_now
from .http import remembered_room
from .language import frame_in, raw_headers_language
from .longpoll import POLL_TIMEOUT_DEFAULT, POLL_TIMEOUT_MAX, shared_answer

logger = logging.getLogger(__name__)

# `/rooms/<slug>/poll`, after the root path (as routing.py's STREAM_PATH).
POLL_PATH = re.compile(r"^/*rooms/(?P<slug>[^/]+)/poll$")
# A direct poll's query: nothing but these, each once, in digits (the epoch in letters and digits).
_PARAMETER = rb"(?:after=\d{1,15}|timeout=\d{1,2}|epoch=[0-9A-Za-z]{1,32})"
QUERY = re.compile(_PARAMETER + rb"(?:&" + _PARAMETER + rb"){0,2}")
QUERY_PARTS = re.compile(rb"(after|timeout|epoch)=([0-9A-Za-z]+)")
# Headers that send a request the usual way: who the reader is (a session, a token), another
# site's page (CORS), Pushpin's signature, a request body.
USUAL_WAY_HEADERS = frozenset(
    {b"authorization", b"origin", b"grip-sig", b"content-length", b"transfer-encoding", b"daphne-root-path"}
)
# The answer's own headers (http.py's `send_body`), as Twisted writes them, in their order.
ANSWER_HEAD = (
    b"Content-Type: application/json\r\nContent-Length: %d\r\nCache-Control: no-store\r\n"
    b"X-Content-Type-Options: nosniff\r\n"
)


def answer_directly(request: Any, scope: Scope) -> bool:
    """Answer or hold the poll `request` (scope: what its application would be given) without
    ASGI, if it is the common case (the module doc); False: it goes the usual way, untouched."""
    try:
        decided = _direct_poll(request, scope)
    except Exception:  # never lose a request to this shortcut: the usual way answers it
        logger.exception("deciding on a direct long-poll failed; answered the usual way")
        return False
    if decided is None:
        return False
    poll, events, wait = decided
    try:
        if events or wait == 0:
            poll.answer(events, poll.feed.last_seq)
        else:
            poll.hold(wait)
    except Exception:  # taken: nothing else may answer it now
        logger.exception("a direct long-poll failed; its connection is closed")
        poll.end()
        request.channel.transport.abortConnection()
    return True


def _direct_poll(request: Any, scope: Scope) -> tuple[DirectPoll, list[Any], int] | None:
    """The direct poll `request` is (with its place taken), what it is answered with at once and
    how long it may wait; None (nothing taken) for a poll that goes the usual way."""
    if scope["method"] != "GET" or scope["root_path"]:
        return None
    match = POLL_PATH.match(scope["path"])
    raw_query = scope["query_string"]
    if match is None or not QUERY.fullmatch(raw_query):
        return None
    query = dict(QUERY_PARTS.findall(raw_query))
    if b"after" not in query or len(query) != raw_query.count(b"&") + 1:
        return None  # no cursor (its first poll reads the log), or a parameter twice
    channel = request.channel
    if getattr(channel, "_buffer", b"") or getattr(channel, "_dataBuffer", None):
        # Pipelined requests behind it: answered at once, one after another, a read's worth
        # of them would hold the event loop; the usual way answers one per turn.
        return None
    session_cookie = settings.SESSION_COOKIE_NAME.encode() + b"="
    for name, value in scope["headers"]:
        if name in USUAL_WAY_HEADERS or (name == b"cookie" and session_cookie in value):
            return None
    if not host_allowed(scope):
        return None
    room = remembered_room(match["slug"])
    if room is None or room.private:
        return None
    hub = get_hub()
    feed = hub.open_feed(room.pk)
    if feed is None:
        return None
    after = int(query[b"after"])
    raw_epoch = query.get(b"epoch")
    epoch = None if raw_epoch is None else raw_epoch.decode("ascii")
    if (epoch is not None and epoch != feed.epoch) or after > feed.last_seq:
        return None  # a reset: the usual way says why
    wait = int(query.get(b"timeout", POLL_TIMEOUT_DEFAULT))
    if wait > POLL_TIMEOUT_MAX:
        return None  # refused the usual way
    events = feed.recent_after(after)
    if events is None:
        return None  # too far behind for memory: read from the log
    place = held_connections().hold_now(client_address(scope))
    if place is None:
        return None
    return DirectPoll(request, hub, feed, after, place), events, wait


class DirectPoll:
    """One direct poll: a guest member of the room's feed until it is answered."""

    __slots__ = (
        "cursor",
        "feed",
        "hub",
        "place",
        "presence_key",
        "presence_name",
        "request",
        "timer",
    )

    def __init__(self, request: Any, hub: Hub, feed: RoomFeed, cursor: int, place: Held) -> None:
        self.request = request
        self.hub = hub
        self.feed = feed
        self.cursor = cursor
        self.place: Held | None = place
        self.presence_key, self.presence_name = presence_identity(None, None)
        self.timer: asyncio.TimerHandle | None = None

    def hold(self, wait: int) -> None:
        self.hub.subscribe_now(self.feed, self)
        self.timer = asyncio.get_running_loop().call_later(wait, self.time_out)
        self.request.on_lost = self.end  # the client went away while the poll waited

    def time_out(self) -> None:
        self.timer = None
        self.answer([], self.cursor)

    def end(self) -> None:
        """Nothing more for this poll: out of the feed, its timer and its held place given back."""
        self.hub.unsubscribe(self.feed.room_id, self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.request.on_lost = None
        if self.place is not None:
            self.place.release()
            self.place = None

    def answer(self, events: list[Any], last_seq: int, reset: str | None = None) -> None:
        self.end()
        feed = self.feed
        body = shared_answer(
            feed, self.presence_key, self.presence_name, self.cursor, events, last_seq, feed.epoch, reset
        )
        reply(self.request, 200, body)

    def refuse(self, body: bytes, status: int) -> None:
        self.end()
        reply(self.request, status, body)

    # The feed's subscriber protocol (chat/realtime/feed.py).

    def deliver_now(self, batch: Batch) -> bool:
        if batch.first_seq != self.cursor + 1 or batch.changes_access:
            return False
        self.answer(batch.events, batch.last_seq)
        return True

    async def deliver(self, batch: Batch) -> None:
        if self.place is None or batch.last_seq <= self.cursor:
            return
        if batch.changes_access:
            readable = await ReadableCheck.of(self.feed.room_id, batch.last_seq)
            if self.place is None:  # gone meanwhile
                return
            if readable is False:
                language = raw_headers_language(self.request.requestHeaders)
                self.refuse(frame_in(language, private_room()).encode(), 403)
                return
            if readable is None:  # not known: nothing new, and the next poll asks the usual way
                self.answer([], self.cursor)
                return
        # From the feed's memory; past it, an empty answer, and the next poll reads the log.
        events = self.feed.recent_after(self.cursor)
        if events is None:
            self.answer([], self.cursor)
        else:
            self.answer(events, self.feed.last_seq)

    async def deliver_presence(self, frame: str) -> None:
        return None  # each answer carries the presence of its moment

    async def deliver_reset(self, last_seq: int, epoch: str) -> None:
        if self.place is not None:
            self.answer([], last_seq, "epoch_changed")  # the feed's epoch is the new one


def reply(request: Any, status: int, body: bytes) -> None:
    """The answer, head and body in one write, straight to the socket when Twisted holds nothing
    for it (`send_now`, as the WebSocket fan-out writes): the same bytes Twisted's request would
    write, without building its header objects or registering the socket with the event loop for
    every answer. Then Twisted's and daphne's `finish` (keep-alive, the next pipelined request)
    and daphne's access-log line, as `handle_reply` writes them."""
    if request.finished or request._disconnected or request.channel is None:
        return
    request.setResponseCode(status)
    server = request.server
    head = [b"%s %d %s\r\n" % (request.clientproto, status, request.code_message)]
    for value in request.responseHeaders.getRawHeaders(b"connection", ()):  # Twisted's `close`
        head.append(b"Connection: %s\r\n" % value)
    head.append(ANSWER_HEAD % len(body))
    if server.server_name:
        head.append(b"Server: %s\r\n" % server.server_name.encode())
    head.append(b"\r\n")
    request.startedWriting = 1
    request.sentLength = len(body)
    send_now(request.channel.transport, b"".join(head) + body)
    request.finish()
    details = {
        "path": request.uri.decode("ascii"),  # its path and query were checked (bounded.py)
        "status": status,
        "method": "GET",
        "client": "{}:{}".format(*request.client_addr) if request.client_addr else None,
        "time_taken": request.duration(),
        "size": request.sentLength,
    }
    try:
        server.log_action("http", "complete", details)
    except Exception:
        logger.exception("the access log failed")


class ReadableCheck:
    """Whether an anonymous reader without a key may still read a room, asked once per batch
    that changes access for all of the room's direct polls (they are all such readers): the
    feed hands the batch to them one after another, and each after the first finds the answer."""

    CHECKS_MAX = 256  # batches remembered; past it the memory starts again
    _checks: dict[tuple[int, int], asyncio.Future[bool | None]] = {}

    @classmethod
    def of(cls, room_id: int, seq: int) -> asyncio.Future[bool | None]:
        """True or False; None when the database could not say (logged once, not per poll)."""
        key = (room_id, seq)
        check = cls._checks.get(key)
        if check is None:
            if len(cls._checks) >= cls.CHECKS_MAX:
                cls._checks.clear()
            check = cls._checks[key] = asyncio.ensure_future(_check(room_id))
        return asyncio.shield(check)

    @classmethod
    def forget(cls) -> None:
        """Drop what was checked (tests: a new test's room may have an old one's primary key)."""
        cls._checks.clear()


async def _check(room_id: int) -> bool | None:
    try:
        return bool(await database_sync_to_async(_anyone_reads)(room_id))
    except Exception:
        logger.exception("room %s: who may read it is not known; its direct polls answer empty", room_id)
        return None


def _anyone_reads(room_id: int) -> bool:
    room = Room.objects.filter(pk=room_id).first()
    return room is not None and can_read(AnonymousUser(), room, None)
