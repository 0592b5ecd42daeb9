"""The second, independent load generator: WebSocket viewers in Node.js on the `ws` package.

`bench/node_viewers.js` shares no code with `bench/clients.py` (its own WebSocket client, event
loop and parsing) and reports what a `bench/load.py` worker reports, so `Bench._measure` takes
either. `ws` comes from the npm registry at run time into the peers' cache under the system's
temporary directory, like socket.io (bench/peers.py); nothing of it is committed.

Each `WorkerSpec` becomes one Node process, driven over stdin and stdout with one JSON object
a line (the protocol is at the top of the script).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

from .load import CONNECT_TIMEOUT_SECS, WorkerSpec, merge_ready
from .peers import CACHE, npm_install
from .server import raise_fd_limit

SCRIPT = Path(__file__).resolve().with_name("node_viewers.js")
WS_SPEC = "ws@^8.18.0"
TITLE = "Node.js ws"
STOP_TIMEOUT_SECS = 15


def ws_folder() -> Path:
    return CACHE / "node-ws-8"


def install_ws() -> str:
    """`ws` 8 from the npm registry into the cache; returns its version."""
    return npm_install(ws_folder(), (WS_SPEC,), "ws")


class _NodeWorker:
    """One Node generator process and the lines it has written but nobody has read yet."""

    def __init__(self, spec: WorkerSpec) -> None:
        for group in spec.groups:
            if group.transport != "ws":
                raise ValueError(f"the Node generator speaks WebSocket only, not {group.transport!r}")
        self.process = subprocess.Popen(
            ["node", str(SCRIPT)],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "NODE_PATH": str(ws_folder() / "node_modules"),
                "NODE_ENV": "production",
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=raise_fd_limit,
        )
        self._pending = b""
        groups = [
            {"host": g.host, "port": g.port, "slug": g.slug, "room": g.room, "count": g.count}
            for g in spec.groups
        ]
        self.send({"groups": groups})

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def receive(self, expect: str, timeout: float) -> dict[str, Any]:
        """The next line the process writes, which must be of type `expect`."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([descriptor], [], [], left)[0]:
                raise RuntimeError(f"{self._name} did not answer {expect!r} in {timeout:.0f} s")
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                raise RuntimeError(f"{self._name} exited (code {self.process.wait()})")
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        if message.pop("type") != expect:
            raise RuntimeError(f"{self._name} answered {line[:200]!r}, expected {expect!r}")
        return message

    @property
    def _name(self) -> str:
        return f"Node generator {self.process.pid}"

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.send({"cmd": "stop"})
                self.receive("stopped", STOP_TIMEOUT_SECS)
            except (OSError, RuntimeError):
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        finally:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()


class NodeLoadGenerator:
    """The Node viewers, with `bench.load.LoadGenerator`'s interface; use as a context manager."""

    title = TITLE

    def __init__(self, specs: list[WorkerSpec]) -> None:
        self.specs = specs
        self.workers: list[_NodeWorker] = []

    def __enter__(self) -> NodeLoadGenerator:
        install_ws()
        try:
            self.workers = [_NodeWorker(spec) for spec in self.specs]
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            worker.stop()

    def _ask(self, command: dict[str, Any] | None, expect: str, timeout: float) -> list[dict[str, Any]]:
        if command is not None:
            for worker in self.workers:
                worker.send(command)
        return [worker.receive(expect, timeout) for worker in self.workers]

    def wait_connected(self) -> dict[str, Any]:
        answers = self._ask(None, "ready", CONNECT_TIMEOUT_SECS + 60)
        return merge_ready(answers)

    def go(self, total: int, rooms: int) -> None:
        self._ask({"cmd": "go", "total": total, "rooms": rooms}, "going", 30)

    def status(self) -> list[dict[str, Any]]:
        return self._ask({"cmd": "status"}, "status", 30)

    def collect(self, drain: float) -> list[dict[str, Any]]:
        reports = self._ask({"cmd": "collect", "drain": drain}, "report", drain + 60)
        for report in reports:
            counts, max_ms = report["histogram"]
            report["histogram"] = ({int(index): count for index, count in counts.items()}, max_ms)
        return reports
