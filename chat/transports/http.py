"""Plain ASGI plumbing for the long-lived HTTP transports (SSE, long-poll), and the checks every
transport makes before it streams a room.

SSE and long-poll are routed in config/asgi.py ahead of Django: Django runs each request's
middleware through `sync_to_async` in a thread of its own that lives as long as the request, so
a thousand waiting polls would hold a thousand threads. Here a waiting request is a coroutine,
its database calls share the process's one sync thread, and its user comes from the same
session and auth as Django's (routing.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _

from chat.clients import client_address, query_param
from chat.domain.access import can_read, require_reader
from chat.domain.bots import is_bot
from chat.domain.rooms import find_room, get_room
from chat.domain.tokens import require_scope
from chat.domain.wire import dumps
from chat.errors import ChatError, rate_limited
from chat.extensions import HTTP_DISCONNECT, scope_extension
from chat.guards.ratelimit import hit, parse_rate
from chat.models import Room, TokenScope
from chat.realtime.presence import presence_identity
from chat.types import Receive, Scope, Send

from .language import error_text

logger = logging.getLogger(__name__)

Handler = Callable[[Scope, Send], Coroutine[Any, Any, None]]


async def send_json(send: Send, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    await send_body(send, status, dumps(body).encode(), headers)


async def send_body(send: Send, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
    """A JSON answer already encoded."""
    extra = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def send_error(
    scope: Scope, send: Send, error: ChatError, headers: dict[str, str] | None = None
) -> None:
    """The error as an HTTP answer: the same body and headers as `chat.errors.error_response`,
    its message in the connection's language."""
    body = (await error_text(scope, error)).encode()
    await send_body(send, error.status, body, {**error.headers(), **(headers or {})})


load_room = database_sync_to_async(find_room)


# A long-poll viewer asks for its room every few seconds. For an anonymous poll of a public room
# (anyone may read it, nothing about the reader to look up) the room's row is taken from memory
# when it was read less than ROOM_MEMO_SECS ago, and once that has passed the polls arriving
# together share one read: a thousand pollers then cost the database thread one query a second,
# not a thousand each time the memory runs out. A room that turns private reaches new polls
# within that time, as it reaches held connections through their recheck (docs/DECISIONS.md).
ROOM_MEMO_SECS = 1.0
ROOM_MEMO_REFRESH_SECS = 0.25  # read again in the background when the memory has this long left
ROOM_MEMO_MAX = 10_000  # rooms remembered at once; past it the memory starts again
_room_memo: dict[str, tuple[float, Room]] = {}
_room_reads: dict[str, asyncio.Future[Room]] = {}  # the read in flight of each slug


async def route_room(scope: Scope, *, connecting: bool = False) -> Room:
    """The room named by the route's slug, if this client may read it; else ChatError:
    room_not_found, private_room, or rate_limited for too many new connections (`connecting`)."""
    if not connecting and _reads_as_anyone(scope):
        room = await _shared_room(scope["url_route"]["kwargs"]["slug"])
        if room.private:
            await admit_reader(scope, room, connecting=False)  # refused, unless it is a member
        return room
    return await database_sync_to_async(_route_room)(scope, connecting)


def _route_room(scope: Scope, connecting: bool) -> Room:
    slug = scope["url_route"]["kwargs"]["slug"]
    room = _remember(slug, get_room(slug))
    _admit_reader(scope, room, connecting)
    return room


def _remember(slug: str, room: Room) -> Room:
    if len(_room_memo) >= ROOM_MEMO_MAX:
        _room_memo.clear()
    _room_memo[slug] = (time.monotonic() + ROOM_MEMO_SECS, room)
    return room


def _reads_as_anyone(scope: Scope) -> bool:
    """An anonymous reader without a token or key: `_admit_reader` admits it to any public room
    without a query, so its room may come from memory."""
    if scope.get("api_token") is not None or query_param(scope, "key"):
        return False
    user = scope.get("user")
    return user is None or not user.is_authenticated


def remembered_room(slug: str) -> Room | None:
    """The room at `slug` if it was read less than ROOM_MEMO_SECS ago, else None. In its last
    ROOM_MEMO_REFRESH_SECS a read starts in the background, so that a room polled without pause
    stays remembered (the direct polls of direct_poll.py never read it themselves)."""
    remembered = _room_memo.get(slug)
    if remembered is None:
        return None
    left = remembered[0] - time.monotonic()
    if left < 0:
        return None
    if left < ROOM_MEMO_REFRESH_SECS and slug not in _room_reads:
        _start_read(slug)
    return remembered[1]


async def _shared_room(slug: str) -> Room:
    """The room at `slug` as read less than ROOM_MEMO_SECS ago, or by the read in flight that
    others asked for first, or by a read of its own; ChatError room_not_found."""
    remembered = remembered_room(slug)
    if remembered is not None:
        return remembered
    # Shielded: a poll that goes away does not cancel the read the others wait for.
    return await asyncio.shield(_room_reads.get(slug) or _start_read(slug))


def _start_read(slug: str) -> asyncio.Future[Room]:
    reading = _room_reads[slug] = asyncio.ensure_future(database_sync_to_async(_read_room)(slug))
    reading.add_done_callback(partial(_read_done, slug))
    return reading


def _read_room(slug: str) -> Room:
    return _remember(slug, get_room(slug))


def _read_done(slug: str, reading: asyncio.Future[Room]) -> None:
    if _room_reads.get(slug) is reading:
        del _room_reads[slug]
    if not reading.cancelled():
        reading.exception()  # retrieved: nobody may be left to await it


def forget_rooms() -> None:
    """Drop the remembered rooms (tests)."""
    _room_memo.clear()
    _room_reads.clear()


async def admit_reader(scope: Scope, room: Room, *, connecting: bool) -> None:
    """Private rooms are for their members (or an overlay carrying the room's key); a new
    connection counts against its address's connection rate."""
    await database_sync_to_async(_admit_reader)(scope, room, connecting)


def _admit_reader(scope: Scope, room: Room, connecting: bool) -> None:
    address = client_address(scope) if connecting else ""
    if address:
        retry_after = hit(f"connect:ip:{address}", parse_rate(settings.CHAT_CONNECT_RATE_IP))
        if retry_after is not None:
            raise rate_limited(_("Too many new connections from your network."), retry_after)
    require_scope(scope.get("api_token"), TokenScope.READ, room)
    user = scope.get("user") or AnonymousUser()
    require_reader(user, room, query_param(scope, "key"))
    is_bot(user)  # asked once per connection: its `hello` and presence entry say so


async def still_readable(scope: Scope, room_id: int) -> bool:
    """After a change of the room's settings or members: may this client still read it?"""
    return bool(await database_sync_to_async(_still_readable)(scope, room_id))


def _still_readable(scope: Scope, room_id: int) -> bool:
    room = Room.objects.filter(pk=room_id).first()
    user = scope.get("user") or AnonymousUser()
    return room is not None and can_read(user, room, query_param(scope, "key"))


def scope_presence(scope: Scope) -> tuple[str, str]:
    """Presence key and name of the connection's user (from the session and auth, routing.py)."""
    return presence_identity(scope.get("user"), getattr(scope.get("session"), "session_key", None))


class GetEndpoint:
    """An ASGI app for one GET endpoint: runs `handler` until it finishes or the client leaves."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The request body (none expected for GET) arrives before anything else.
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body"):
                break
        if scope["method"] not in ("GET", "HEAD"):
            refusal = ChatError("method_not_allowed", _("Use GET."), status=405)
            await send_error(scope, send, refusal, {"Allow": "GET"})
            return
        # The handler runs in this task; a client that leaves cancels it (its `finally` blocks
        # release its subscription). Under this project's server the request's queue says when
        # the client leaves (`HTTP_DISCONNECT`); elsewhere a second task reads `receive()`.
        this = asyncio.current_task()
        assert this is not None
        running, left = True, False

        def leave(gone: asyncio.Future[None] | None = None) -> None:
            nonlocal left
            if running and not (gone is not None and gone.cancelled()):
                left = True
                this.cancel()

        watch = scope_extension(scope, HTTP_DISCONNECT)
        gone = None
        if watch is not None:
            watch(leave)
        else:
            gone = asyncio.ensure_future(_disconnected(receive))
            gone.add_done_callback(leave)
        try:
            await self.handler(scope, send)
        except asyncio.CancelledError:
            if not left:
                raise  # the server is stopping
            this.uncancel()
        finally:
            running = False
            if gone is not None:
                gone.cancel()
            elif watch is not None:
                watch(None)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
