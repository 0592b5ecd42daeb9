"""chat/transports/routing.py `Router`: every connection to its application, and the HTTP
endpoints' wait for a client that leaves (chat/transports/http.py `GetEndpoint`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chat.extensions import HTTP_DISCONNECT
from chat.transports import routing
from chat.transports.http import GetEndpoint
from config.serve import Inbox


def recorder(name: str, calls: list[tuple[str, Any]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append((name, scope.get("url_route")))

    return app


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> tuple[routing.Router, list[tuple[str, Any]]]:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        routing, "STREAMS", {"events": recorder("sse", calls), "poll": recorder("poll", calls)}
    )
    router = routing.Router(recorder("django", calls))
    router.websocket = recorder("websocket", calls)  # type: ignore[assignment]
    return router, calls


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"type": "http", "path": "/rooms/lobby/poll"}, ("poll", "lobby")),
        ({"type": "http", "path": "/rooms/caf\u00e9/events"}, ("sse", "caf\u00e9")),
        ({"type": "http", "path": "/chat/rooms/lobby/poll", "root_path": "/chat"}, ("poll", "lobby")),
        ({"type": "http", "path": "/rooms/lobby/poll/"}, ("django", None)),
        ({"type": "http", "path": "/rooms/lobby/"}, ("django", None)),
        ({"type": "http", "path": "/rooms/a/b/poll"}, ("django", None)),
        ({"type": "http", "path": "/api/rooms/lobby/poll"}, ("django", None)),
        ({"type": "websocket", "path": "/ws/rooms/lobby/"}, ("websocket", None)),
    ],
)
def test_each_connection_reaches_its_application(routed: Any, scope: dict[str, Any], expected: Any) -> None:
    router, calls = routed
    asyncio.run(router(scope, None, None))
    name, slug = expected
    assert calls == [(name, {"args": (), "kwargs": {"slug": slug}} if slug else None)]


def test_an_unknown_kind_of_connection_is_an_error(routed: Any) -> None:
    router, _ = routed
    with pytest.raises(ValueError, match="lifespan"):
        asyncio.run(router({"type": "lifespan"}, None, None))


async def test_a_client_that_leaves_ends_its_handler_without_a_reading_task() -> None:
    inbox = Inbox()
    inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    started, ended = asyncio.Event(), []

    async def handler(scope: Any, send: Any) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            ended.append("cancelled")

    scope = {"type": "http", "method": "GET", "extensions": {HTTP_DISCONNECT: inbox.watch_disconnect}}
    tasks_before = len(asyncio.all_tasks())
    endpoint = asyncio.ensure_future(GetEndpoint(handler)(scope, inbox.get, None))
    await started.wait()
    assert len(asyncio.all_tasks()) == tasks_before + 1  # the request's own task only
    inbox.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(endpoint, 5)  # ends without an error
    assert ended == ["cancelled"]


async def test_a_handler_that_finishes_stops_watching() -> None:
    inbox = Inbox()
    inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})

    async def handler(scope: Any, send: Any) -> None:
        return None

    scope = {"type": "http", "method": "GET", "extensions": {HTTP_DISCONNECT: inbox.watch_disconnect}}
    await GetEndpoint(handler)(scope, inbox.get, None)
    assert inbox._on_disconnect is None  # the endpoint's callback is not kept
