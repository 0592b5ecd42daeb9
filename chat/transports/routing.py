"""Where connections go: WebSocket to the room consumer, SSE and long-poll to their endpoints.

Channels' usual stack (origin check, cookies, session, auth, URL router, `as_asgi`) is six
nested coroutines, each keeping its own copy of the scope for as long as the connection lives:
about a fifth of an idle WebSocket connection's memory. `with_user` and `WebSocketRoute` do
the same work in one frame each: the same session (Django's session engine, from the same
cookie), the same user (Channels' `get_user`, which checks the session's auth hash).
"""

from __future__ import annotations

import re
from importlib import import_module

from channels.auth import get_user
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.cookie import parse_cookie
from django.urls import re_path

from chat.guards.origin import origin_allowed
from chat.types import ASGIApp, Receive, Scope, Send

from . import longpoll, sse
from .websocket import RoomConsumer

# Any slug reaches the consumer, which closes with 4404 for one that names no room.
ROOM_WEBSOCKET_PATH = re.compile(r"^/?ws/rooms/(?P<slug>[^/]+)/$")


async def authenticated(scope: Scope) -> Scope:
    """`scope` with `cookies`, `session` and `user`, as Channels' AuthMiddlewareStack sets them
    (in place: a copy would live as long as the connection, next to the original)."""
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookies = parse_cookie(value.decode("latin1"))
            break
    store = import_module(settings.SESSION_ENGINE).SessionStore
    scope["cookies"] = cookies
    scope["session"] = store(cookies.get(settings.SESSION_COOKIE_NAME))
    scope["user"] = await get_user(scope)
    return scope


def with_user(endpoint: ASGIApp) -> ASGIApp:
    """An ASGI endpoint called with `authenticated(scope)`. Sessions are read, never written."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoint(await authenticated(scope), receive, send)

    return app


class WebSocketRoute:
    """Every WebSocket connection: refused (HTTP 403) from another site's page or at a path
    that is not a room's, otherwise a RoomConsumer with the slug in `url_route` (as URLRouter
    sets it); the consumer closes with 4404 when the slug names no room."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = ROOM_WEBSOCKET_PATH.match(scope.get("path", ""))
        if match is None or not origin_allowed(scope):
            await WebsocketDenier()(scope, receive, send)
            return
        slug = match["slug"]
        del match  # this frame lives as long as the connection
        scope = await authenticated(scope)
        scope["url_route"] = {"args": (), "kwargs": {"slug": slug}}
        await RoomConsumer()(scope, receive, send)


# Any slug reaches the endpoint, which answers an unknown one with a JSON 404.
# (Channels' URLRouter takes ASGI apps where Django's stubs expect views.)
http_urlpatterns = [
    re_path(r"^rooms/(?P<slug>[^/]+)/events$", with_user(sse.endpoint)),  # type: ignore[arg-type]
    re_path(r"^rooms/(?P<slug>[^/]+)/poll$", with_user(longpoll.endpoint)),  # type: ignore[arg-type]
]
