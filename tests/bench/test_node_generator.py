"""The second load generator (bench/node_viewers.js, Node.js on `ws`): it counts what the first
one counts, against a real server and against a scripted one that loses and repeats a post."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.server import Server, ServerConnection, serve

from bench.load import ViewerGroup, WorkerSpec
from bench.node_viewers import NodeLoadGenerator, install_ws
from bench.scenarios import Bench, Settings

from .npm import from_npm

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def node_ws() -> str:
    """`ws` from the npm registry, as `make bench` installs it."""
    return from_npm(install_ws, "the Node generator")


def test_every_post_reaches_every_node_viewer_exactly_once(node_ws: str) -> None:
    with tempfile.TemporaryDirectory(prefix="chat-bench-test-") as folder:
        bench = Bench(Path(folder), Settings(workers=1, seconds=2, drain=10), small_rooms=0)
        row = bench.fanout("ws", 5, 20, generator="node-ws")
    assert row["generator"] == "node-ws"
    assert row["acked"] == 40
    assert row["expected"] == 5 * 40
    assert row["delivered"] == 5 * 40
    assert (row["lost"], row["duplicates"], row["reordered"], row["reconnects"]) == (0, 0, 0, 0)
    assert row["errors"] == {}
    assert row["p99_ms"] is not None
    assert row["p99_ms"] < 5000
    assert 0 < row["generator_cpu_pct_busiest"] <= row["generator_cpu_pct"]
    assert bench.versions["ws"] == node_ws


def _frame(kind: str, **fields: object) -> str:
    return json.dumps({"type": kind, **fields}, separators=(",", ":"))


def _post(seq: int, number: int) -> dict[str, object]:
    return {"seq": seq, "kind": "message", "text": f"bench {number} {time.time():.6f}"}


class ScriptedRoom:
    """A room server that sends post 0 and 1, drops the viewer, and on its resume from seq 2
    sends post 1 again; post 2 never comes."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.paths: list[str] = []

    def handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.paths.append(connection.request.path)
        first = len(self.paths) == 1
        connection.send(_frame("hello", room="bench", last_seq=0 if first else 2))
        if first:
            self.go.wait(30)
            connection.send(_frame("events", events=[_post(1, 0), _post(2, 1)]))
            connection.close()
            return
        connection.send(_frame("events", events=[_post(2, 1)]))
        for _ in connection:
            pass


@pytest.fixture
def scripted_room() -> Iterator[tuple[ScriptedRoom, Server]]:
    room = ScriptedRoom()
    with serve(room.handle, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield room, server
        server.shutdown()
    thread.join(5)


def test_the_node_generator_counts_a_lost_and_a_repeated_post_and_resumes_from_its_cursor(
    node_ws: str, scripted_room: tuple[ScriptedRoom, Server]
) -> None:
    room, server = scripted_room
    port = server.socket.getsockname()[1]
    spec = WorkerSpec([ViewerGroup("ws", port, "bench", 0, 1)])
    with NodeLoadGenerator([spec]) as generator:
        connected = generator.wait_connected()
        generator.go(3, 1)
        room.go.set()
        (report,) = generator.collect(2)
    assert connected["errors"] == {}
    assert (report["expected"], report["delivered"], report["counts"]) == (3, 2, [1, 1, 0])
    assert (report["duplicates"], report["reconnects"]) == (1, 1)
    assert room.paths == ["/ws/rooms/bench/", "/ws/rooms/bench/?after=2"]
    counts, max_ms = report["histogram"]
    assert sum(counts.values()) == 2
    assert 0 <= max_ms < 30_000
