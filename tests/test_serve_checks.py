"""config/serve.py: daphne's periodic checks of every connection, a slice per turn of the loop."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet import reactor

from config.serve import CHECK_SLICE, _command_line


class Connection:
    """What the checks call on a connection."""

    def __init__(self) -> None:
        self.checked = 0
        self.failures: list[BaseException] = []

    def check_timeouts(self) -> None:
        self.checked += 1

    def handle_exception(self, error: BaseException) -> None:
        self.failures.append(error)


@pytest.fixture
def server() -> Any:
    return _command_line().server_class(application=None, endpoints=["tcp:port=0"])


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, Callable[..., None], tuple[Any, ...]]]:
    calls: list[tuple[float, Callable[..., None], tuple[Any, ...]]] = []
    monkeypatch.setattr(reactor, "callLater", lambda delay, f, *args: calls.append((delay, f, args)))
    return calls


def test_timeouts_are_checked_a_slice_per_turn_of_the_loop(server: Any, scheduled: list[Any]) -> None:
    connections = [Connection() for _ in range(2 * CHECK_SLICE + 5)]
    server.connections = {connection: {"connected": time.time()} for connection in connections}
    server.timeout_checker()
    assert sum(c.checked for c in connections) == CHECK_SLICE  # one slice, then the loop turns
    assert scheduled[-1][0] == 0
    gone = connections[-1]
    del server.connections[gone]  # closed meanwhile: skipped
    while scheduled and scheduled[-1][0] == 0:
        _, step, args = scheduled.pop()
        step(*args)
    assert [c.checked for c in connections[:-1]] == [1] * (len(connections) - 1)
    assert gone.checked == 0
    assert scheduled[-1][0] == 2  # the next round, as daphne's


def test_ended_applications_are_reaped_and_their_failures_reported(server: Any, scheduled: list[Any]) -> None:
    loop = asyncio.new_event_loop()
    try:
        failed, running, finished = Connection(), Connection(), Connection()
        failure = loop.create_future()
        failure.set_exception(ValueError("boom"))
        overdue = loop.create_future()
        done = loop.create_future()
        done.set_result(None)
        server.connections = {
            failed: {"application_instance": failure},
            running: {"application_instance": overdue, "disconnected": time.time() - 60},
            finished: {"application_instance": done, "disconnected": time.time()},
        }
        server.application_checker()
        assert [type(error) for error in failed.failures] == [ValueError]  # its connection is closed
        assert "application_instance" not in server.connections[failed]
        assert overdue.cancelled()  # outlived its connection by application_close_timeout
        assert finished not in server.connections  # both ended: forgotten
        assert scheduled[-1][0] == 1
    finally:
        loop.close()


def test_a_finished_walk_keeps_no_connection_alive(server: Any, scheduled: list[Any]) -> None:
    """A walk's snapshot of the connections goes with its last slice, without the collector:
    a walk that scheduled itself through a closure kept every connection it saw (finished
    requests too) until the next full collection."""
    gc.disable()
    try:
        connections = [Connection() for _ in range(CHECK_SLICE + 5)]
        server.connections = {connection: {"connected": time.time()} for connection in connections}
        server.timeout_checker()
        while scheduled and scheduled[-1][0] == 0:
            _, step, args = scheduled.pop()
            step(*args)
        del step, args
        seen = weakref.ref(connections[0])
        server.connections.clear()
        del connections
        assert seen() is None
    finally:
        gc.enable()


class Request:
    """What `create_application` and the checks use of a daphne HTTP request."""

    transport = None
    failures: list[BaseException] = []

    def handle_exception(self, error: BaseException) -> None:
        self.failures.append(error)


def test_an_application_is_forgotten_as_soon_as_it_and_its_request_end(
    server: Any, scheduled: list[Any]
) -> None:
    """Not a second later, at the next walk: until then a finished request's objects stayed
    alive, most of what the collector walked under a thousand long-polls a second."""
    loop = asyncio.new_event_loop()
    try:
        ended = loop.create_future()

        async def application(scope: Any, receive: Any, send: Any) -> None:
            assert (await receive())["type"] == "http.request"
            await ended

        server.application = application
        request, still_open = Request(), Request()
        server.connections = {request: {}, still_open: {}}

        async def scenario() -> None:
            for each in (request, still_open):
                inbox = server.create_application(each, {"type": "http", "path": "/rooms/a/poll"})
                inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})
            server.protocol_disconnected(request)  # its answer was written (daphne's finish)
            ended.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)

        loop.run_until_complete(scenario())
        assert request not in server.connections
        # An application that ended before its connection: forgotten when the connection ends.
        assert "application_instance" not in server.connections[still_open]
        server.protocol_disconnected(still_open)
        assert still_open not in server.connections
        assert not scheduled  # no walk was needed
    finally:
        loop.close()


def test_the_inbox_reports_a_disconnect_to_its_watcher() -> None:
    from config.serve import Inbox

    gone: list[str] = []
    inbox = Inbox()
    inbox.put_nowait({"type": "http.request", "body": b""})
    inbox.watch_disconnect(lambda: gone.append("first"))
    assert gone == []
    inbox.put_nowait({"type": "http.disconnect"})
    assert gone == ["first"]
    inbox.put_nowait({"type": "http.disconnect"})  # once
    assert gone == ["first"]
    # Already gone when the watch starts: called at once.
    inbox.watch_disconnect(lambda: gone.append("late"))
    assert gone == ["first", "late"]
    # None stops watching.
    other = Inbox()
    other.watch_disconnect(lambda: gone.append("unwatched"))
    other.watch_disconnect(None)
    other.put_nowait({"type": "http.disconnect"})
    assert gone == ["first", "late"]
    # The messages stay queued for whoever reads them.
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(other.get()) == {"type": "http.disconnect"}
    finally:
        loop.close()
