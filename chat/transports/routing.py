"""Where connections go: WebSocket to the room consumer, SSE and long-poll to their endpoints.

Channels' usual stack (origin check, cookies, session, auth, URL router, `as_asgi`) is six
nested coroutines, each keeping its own copy of the scope for as long as the connection lives:
about a fifth of an idle WebSocket connection's memory. `held_stream` and `WebSocketRoute` do
the same work in one frame each: the same session (Django's session engine, from the same
cookie), the same user (Channels' `get_user`, which checks the session's auth hash).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie

from chat.clients import client_address, header, query_param
from chat.domain.tokens import authenticate, bearer_token, redeem_ticket
from chat.errors import ChatError
from chat.guards.held import hold_connection
from chat.guards.origin import (
    cors_headers,
    host_allowed,
    invalid_host,
    origin_allowed,
    origin_listed,
    room_embed_origin,
)
from chat.types import ASGIApp, Message, Receive, Scope, Send

from . import longpoll, sse
from .grip import trust_forwarded_address
from .http import send_error
from .websocket import CloseCode, RoomConsumer, refuse_websocket

# Any slug reaches the consumer, which closes with 4404 for one that names no room.
ROOM_WEBSOCKET_PATH = re.compile(r"^/?ws/rooms/(?P<slug>[^/]+)/$")


async def authenticated(scope: Scope, *, with_cookies: bool = True) -> Scope:
    """`scope` with `cookies`, `session` and `user`, as Channels' AuthMiddlewareStack sets them
    (in place: a copy would live as long as the connection, next to the original). With
    `Authorization: Bearer`, the user is the token's (`api_token`), and no cookie is read;
    ChatError 401 for a token that is not valid. `?ticket=` stands for the header where a
    browser cannot send one. Without `with_cookies` (another site's page) no cookie is read."""
    raw = bearer_token(header(scope, b"authorization"))
    ticket = query_param(scope, "ticket") if raw is None else None
    if raw is not None or ticket:
        if raw is not None:
            token = await database_sync_to_async(authenticate)(raw)
        else:
            token = await database_sync_to_async(redeem_ticket)(str(ticket))
        scope["cookies"] = {}
        scope["session"] = None
        scope["user"] = token.user
        scope["api_token"] = token
        return scope
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", []) if with_cookies else ():
        if name == b"cookie":
            cookies = parse_cookie(value.decode("latin1"))
            break
    store = session_store(settings.SESSION_ENGINE)
    session_key = cookies.get(settings.SESSION_COOKIE_NAME)
    scope["cookies"] = cookies
    # No session without its cookie (a store made for nothing costs every anonymous poll).
    scope["session"] = store(session_key) if session_key else None
    # Without a session cookie the reader is anonymous: no trip to the database thread (most
    # viewers and overlays; a long-poll viewer asks every few seconds).
    scope["user"] = await get_user(scope) if session_key else AnonymousUser()
    return scope


@lru_cache(maxsize=8)
def session_store(engine: str) -> Any:
    """The session engine's store class (imported once, not once per request)."""
    return import_module(engine).SessionStore


def held_stream(endpoint: ASGIApp) -> ASGIApp:
    """An HTTP stream (SSE, long-poll) for a host in ALLOWED_HOSTS (else 400 `invalid_host`)
    that first takes a place among the held connections
    (chat/guards/held.py), before its user is read: a refusal costs no trip to the database.
    A listed origin (CORS_ALLOWED_ORIGINS, the room's embed origin) gets its preflight answered
    and CORS headers on the answer, as django-cors-headers gives Django's views."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if not host_allowed(scope):  # as Django answers a page for a host not in ALLOWED_HOSTS
            await send_error(scope, send, invalid_host())
            return
        cors = await listed_origin(scope)
        if scope["method"] == "OPTIONS" and header(scope, b"access-control-request-method") is not None:
            await receive()  # the (empty) request body
            headers = cors_headers(cors, preflight=True) if cors else {}
            await send_empty(send, 200, headers)
            return
        if cors:
            send = with_headers(send, cors_headers(cors, preflight=False))
        trust_forwarded_address(scope)  # behind Pushpin (grip.py)
        try:
            place = await hold_connection(client_address(scope))
        except ChatError as error:
            await send_error(scope, send, error)
            return
        try:
            try:
                # Another site's page reads with a token or a ticket, never this site's cookies.
                scope = await authenticated(scope, with_cookies=cors is None)
            except ChatError as error:
                await send_error(scope, send, error)
                return
            await endpoint(scope, receive, send)  # sessions read, never written
        finally:
            place.release()

    return app


async def listed_origin(scope: Scope, slug: object = None) -> str | None:
    """The request's Origin if it is another site's that may read the room at `slug` (default:
    the route's), else None (this site's own pages need no CORS headers; an unlisted site gets
    none, so browsers refuse)."""
    origin = header(scope, b"origin")
    if origin is None or origin_allowed(scope):
        return None
    if origin_listed(origin):
        return origin
    if slug is None:
        slug = scope.get("url_route", {}).get("kwargs", {}).get("slug")
    room_origin = await database_sync_to_async(room_embed_origin)(slug) if isinstance(slug, str) else ""
    return origin if origin_listed(origin, room_origin) else None


def with_headers(send: Send, headers: dict[str, str]) -> Send:
    """`send`, adding `headers` to the response's start."""
    extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


async def send_empty(send: Send, status: int, headers: dict[str, str]) -> None:
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0"), *encoded]}
    )
    await send({"type": "http.response.body", "body": b""})


class WebSocketRoute:
    """Every WebSocket connection: closed with 4400 (`invalid_host`) for a host not in
    ALLOWED_HOSTS; refused (HTTP 403) from another site's page (unless listed) or at a path
    that is not a room's; closed with 4429 or 4503 past the held connections' limits; otherwise
    a RoomConsumer with the slug in `url_route` (as URLRouter sets it), which closes with 4404
    when the slug names no room."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not host_allowed(scope):
            await receive()  # websocket.connect
            await refuse_websocket(scope, send, CloseCode.BAD_REQUEST, invalid_host())
            return
        match = ROOM_WEBSOCKET_PATH.match(scope.get("path", ""))
        slug = match["slug"] if match is not None else ""
        del match  # this frame lives as long as the connection
        same_site = origin_allowed(scope)
        if not slug or not (same_site or await listed_origin(scope, slug)):
            await WebsocketDenier()(scope, receive, send)
            return
        try:
            place = await hold_connection(client_address(scope))
        except ChatError as error:
            await receive()  # websocket.connect
            code = CloseCode.SERVER_BUSY if error.status == 503 else CloseCode.TOO_MANY_CONNECTIONS
            await refuse_websocket(scope, send, code, error)
            return
        try:
            try:
                # A listed site's page: a token or a ticket, never this site's cookies.
                scope = await authenticated(scope, with_cookies=same_site)
            except ChatError as error:
                await receive()  # websocket.connect
                await refuse_websocket(scope, send, CloseCode.UNAUTHORIZED, error)
                return
            scope["url_route"] = {"args": (), "kwargs": {"slug": slug}}
            await RoomConsumer()(scope, receive, send)
        finally:
            place.release()


# Any slug reaches the endpoint, which answers an unknown one with a JSON 404.
STREAM_PATH = re.compile(r"^rooms/(?P<slug>[^/]+)/(?P<kind>events|poll)$")
STREAMS = {"events": held_stream(sse.endpoint), "poll": held_stream(longpoll.endpoint)}


class Router:
    """Every connection: SSE and long-poll to their endpoints (ahead of Django, so a waiting
    request holds no thread), other HTTP to `http` (Django), WebSocket to `WebSocketRoute`.
    What Channels' ProtocolTypeRouter and URLRouter did, in one frame: a long-poll viewer asks
    every few seconds, and those two layers (each a coroutine, the second trying Django URL
    patterns in turn and copying the scope) were a twentieth of a poll's cost."""

    def __init__(self, http: ASGIApp) -> None:
        self.http = http
        self.websocket = WebSocketRoute()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope.get("path", "")
            root_path = scope.get("root_path", "")
            if root_path and path.startswith(root_path):
                path = path[len(root_path) :]
            match = STREAM_PATH.match(path.lstrip("/"))
            if match is None:
                await self.http(scope, receive, send)
                return
            scope["url_route"] = {"args": (), "kwargs": {"slug": match["slug"]}}
            await STREAMS[match["kind"]](scope, receive, send)
        elif kind == "websocket":
            await self.websocket(scope, receive, send)
        else:
            raise ValueError(f"No application configured for scope type {kind!r}")
