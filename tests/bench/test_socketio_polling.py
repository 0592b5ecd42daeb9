"""The benchmark's socket.io long-polling viewers (bench/clients.py `run_socketio_poll_viewer`)
against the real Node.js socket.io peer, as `make bench` runs it beside this project's
long-poll room."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bench.peers import install_socketio
from bench.scenarios import Bench, Settings

from .npm import from_npm

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def socketio() -> str:
    """socket.io from the npm registry, as `make bench` installs it."""
    return from_npm(install_socketio, "the socket.io peer")


def test_every_post_reaches_every_polling_viewer_exactly_once(socketio: str) -> None:
    with tempfile.TemporaryDirectory(prefix="chat-bench-test-") as folder:
        bench = Bench(Path(folder), Settings(workers=1, seconds=2, drain=10), small_rooms=0)
        row = bench.peer_fanout("socketio", 5, 20, transport="poll")
    assert (row["peer"], row["transport"]) == ("socketio", "poll")
    assert row["acked"] == 40
    assert row["delivered"] == row["expected"] == 5 * 40
    assert (row["lost"], row["duplicates"], row["reconnects"]) == (0, 0, 0)
    assert row["errors"] == {}
    assert row["p99_ms"] is not None
    assert bench.versions["socketio"] == socketio
