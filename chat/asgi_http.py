"""Plain ASGI plumbing for the long-lived HTTP transports (SSE, long-poll).

They are routed in config/asgi.py ahead of Django: Django runs each request's middleware
through `sync_to_async` in a thread of its own that lives as long as the request, so a
thousand waiting polls would hold a thousand threads. Here a waiting request is a coroutine,
its database calls share the process's one sync thread, and its user comes from Channels'
session and auth middleware.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from .errors import ChatError, room_not_found
from .models import Room, is_room_slug
from .moderation import can_read, require_reader
from .presence import presence_identity
from .ratelimit import hit, parse_rate
from .wire import dumps

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[[Scope, Send], Coroutine[Any, Any, None]]


def query_param(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[-1] if values else None


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def send_json(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def send_error(send: Send, error: ChatError) -> None:
    headers = []
    if error.extra.get("retry_after") is not None:
        headers.append((b"retry-after", str(error.extra["retry_after"]).encode()))
    await send_json(send, error.status, error.as_dict(), headers)


@database_sync_to_async
def load_room(slug: str) -> Room | None:
    if not is_room_slug(slug):  # SSE, long-poll and WebSocket route any slug here
        return None
    return Room.objects.filter(slug=slug).first()


async def route_room(scope: Scope, *, connecting: bool = False) -> Room:
    """The room named by the route's slug, if this client may read it; else ChatError:
    room_not_found, private_room, or rate_limited for too many new connections (`connecting`)."""
    slug = scope["url_route"]["kwargs"]["slug"]
    room = await load_room(slug)
    if room is None:
        raise room_not_found(slug)
    await admit_reader(scope, room, connecting=connecting)
    return room


def client_ip(scope: Scope) -> str:
    client = scope.get("client") or ("", 0)
    return str(client[0] or "")


async def admit_reader(scope: Scope, room: Room, *, connecting: bool) -> None:
    """Private rooms are for their members (or an overlay carrying the room's key); a new
    connection counts against its address's connection rate."""
    await database_sync_to_async(_admit_reader)(
        scope.get("user"), room, query_param(scope, "key"), client_ip(scope) if connecting else None
    )


def _admit_reader(user: Any, room: Room, overlay_key: str | None, connecting_ip: str | None) -> None:
    if connecting_ip:
        retry_after = hit(f"connect:ip:{connecting_ip}", parse_rate(settings.CHAT_CONNECT_RATE_IP))
        if retry_after is not None:
            raise ChatError(
                "rate_limited",
                f"Too many new connections from your network; try again in {retry_after} s.",
                status=429,
                retry_after=retry_after,
            )
    require_reader(user or AnonymousUser(), room, overlay_key)


async def still_readable(scope: Scope, room_id: int) -> bool:
    """After a change of the room's settings or members: may this client still read it?"""
    return bool(
        await database_sync_to_async(_still_readable)(scope.get("user"), room_id, query_param(scope, "key"))
    )


def _still_readable(user: Any, room_id: int, overlay_key: str | None) -> bool:
    room = Room.objects.filter(pk=room_id).first()
    return room is not None and can_read(user or AnonymousUser(), room, overlay_key)


def scope_presence(scope: Scope) -> tuple[str, str]:
    """Presence key and name of the connection's user (Channels' auth and session middleware)."""
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
            await send_json(
                send, 405, {"code": "method_not_allowed", "message": "Use GET."}, [(b"allow", b"GET")]
            )
            return
        work = asyncio.ensure_future(self.handler(scope, send))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Done, or the client left, or the server is stopping: cancel what still runs;
            # the handler's `finally` blocks release its subscription.
            for task in (work, gone):
                task.cancel()
            outcome, _ = await asyncio.gather(work, gone, return_exceptions=True)
        if isinstance(outcome, Exception):
            raise outcome


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
