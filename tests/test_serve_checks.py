"""config/serve.py: daphne's periodic checks of every connection, a slice per turn of the loop."""

from __future__ import annotations

import asyncio
import time
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
