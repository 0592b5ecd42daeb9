"""Viewer worker processes and the parent's handle on them.

Each worker is a process of its own with its own event loop (a Python event loop saturates
one core long before a server does). The parent talks to each over a pipe:

    parent                         worker
    (spec)                  ->     connect the viewers, "ready" with connect timings
    ("go", total, rooms)    ->     allocate the bitmaps, start counting CPU, "going"
    ("collect", drain)      ->     wait until every viewer has its posts (or `drain` s), report
    ("status",)             ->     how many viewers are connected
    ("stop",)               ->     close everything and exit
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from .clients import (
    Tally,
    Viewer,
    run_poll_viewer,
    run_socketio_poll_viewer,
    run_sse_viewer,
    run_websocket_viewer,
)
from .histogram import Histogram

# Handshakes one worker keeps in flight: enough to keep the server busy accepting, few enough
# that none waits past daphne's 5 s accept timeout (`--websocket_connect_timeout`) and is
# rejected, as 100 per worker were while 1,000 rooms opened.
HANDSHAKES_IN_FLIGHT = 32
CONNECT_TIMEOUT_SECS = 300
# ... or longer for a worker with many viewers: 25,000 at about 100 handshakes a second.
CONNECT_RATE_FLOOR = 50


def connect_timeout(viewers: int) -> float:
    """How long a worker waits for all its viewers to be connected."""
    return max(CONNECT_TIMEOUT_SECS, viewers / CONNECT_RATE_FLOOR)


@dataclass(frozen=True)
class ViewerGroup:
    """`count` viewers of one room on one server, over one transport."""

    # "ws", "sse", "poll" (this project), "socketio", "socketio-poll" (a socket.io peer over
    # WebSocket, over long-polling)
    transport: str
    port: int
    slug: str
    room: int  # index of the room: post n goes to room n % rooms
    count: int
    host: str = "127.0.0.1"
    # The local address the viewers connect from ("": the system's choice). One address has
    # about 28,000 ephemeral ports (net.ipv4.ip_local_port_range) towards one server port:
    # more connections than that come from several loopback addresses (127.0.0.x).
    source: str = ""


@dataclass
class WorkerSpec:
    groups: list[ViewerGroup] = field(default_factory=list)

    @property
    def viewers(self) -> int:
        return sum(group.count for group in self.groups)


def raise_fd_limit(wanted: int = 0) -> int:
    """Raise this process's limit on open files: the hard limit to `wanted` if it is lower and
    this process may raise it (root may, as systemd's LimitNOFILE does for a service), then the
    soft limit to the hard limit. Returns the limit now. Child processes inherit it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if wanted > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            hard = wanted
        except (ValueError, OSError):
            pass  # not allowed: the hard limit stays, and the caller says what it needs
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_main(spec: WorkerSpec, pipe: Connection) -> None:
    raise_fd_limit()
    asyncio.run(_Worker(spec, pipe).run())


class _Worker:
    def __init__(self, spec: WorkerSpec, pipe: Connection) -> None:
        self.spec = spec
        self.pipe = pipe
        self.tally = Tally()
        self.viewers: list[Viewer] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.cpu_at_go = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        await self.connect()
        self.pipe.send(("ready", {"connect_s": time.perf_counter() - started, "errors": self.tally.errors}))
        while True:
            command = await loop.run_in_executor(None, self.pipe.recv)
            if command[0] == "go":
                _, total, rooms = command
                for viewer in self.viewers:
                    viewer.expect(total, rooms)
                self.tally.reconnects = 0
                self.cpu_at_go = cpu_seconds()
                self.pipe.send(("going", None))
            elif command[0] == "collect":
                self.pipe.send(("report", await self.collect(command[1])))
            elif command[0] == "status":
                self.pipe.send(("status", self.status()))
            elif command[0] == "stop":
                await self.stop()
                self.pipe.send(("stopped", None))
                return

    async def connect(self) -> None:
        handshakes = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
        for group in self.spec.groups:
            for _ in range(group.count):
                viewer = Viewer(self.tally, group.room)
                self.viewers.append(viewer)
                if group.transport in ("ws", "socketio"):
                    flavour = "chat" if group.transport == "ws" else "socketio"
                    job = run_websocket_viewer(
                        viewer, group.host, group.port, group.slug, flavour, handshakes, group.source
                    )
                elif group.transport == "sse":
                    job = run_sse_viewer(viewer, group.host, group.port, group.slug, handshakes)
                elif group.transport == "poll":
                    job = run_poll_viewer(viewer, group.host, group.port, group.slug, handshakes)
                elif group.transport == "socketio-poll":
                    job = run_socketio_poll_viewer(viewer, group.host, group.port, handshakes)
                else:
                    raise ValueError(f"unknown transport {group.transport!r}")
                self.tasks.append(asyncio.create_task(job))
                if len(self.tasks) % HANDSHAKES_IN_FLIGHT == 0:
                    await asyncio.sleep(0)  # let the first handshakes start
        waiting = [asyncio.create_task(viewer.ready.wait()) for viewer in self.viewers]
        timeout = connect_timeout(len(self.viewers))
        if waiting:
            await asyncio.wait(waiting, timeout=timeout)
        for task in waiting:
            task.cancel()
        missing = sum(not viewer.ready.is_set() for viewer in self.viewers)
        if missing:
            self.tally.error(f"not_connected_after_{timeout:.0f}s:{missing}")

    async def collect(self, drain: float) -> dict[str, Any]:
        """Wait for every viewer's posts (at most `drain` s after the call), then report."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain
        # Polls many viewers' progress at once; there is no single event to wait for.
        while loop.time() < deadline and any(v.got < v.expected for v in self.viewers):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        still_arriving = time.time() - self.tally.last_arrival < 0.5
        tally = self.tally
        total = len(self.viewers[0].seen or b"") if self.viewers else 0
        counts = [0] * total  # viewers of this worker that got post n
        for viewer in self.viewers:
            for number, flag in enumerate(viewer.seen or b""):
                if flag:
                    counts[number] += 1
        report = {
            "viewers": len(self.viewers),
            "expected": sum(v.expected for v in self.viewers),
            "delivered": sum(v.got for v in self.viewers),
            "counts": counts,
            "duplicates": tally.duplicates,
            "reordered": tally.reordered,
            "resets": tally.resets,
            "reconnects": tally.reconnects,
            "errors": dict(tally.errors),
            "other_frames": dict(tally.other_frames),
            "histogram": tally.histogram.to_sparse(),
            "first_arrival": tally.first_arrival,
            "last_arrival": tally.last_arrival,
            "still_arriving": still_arriving and any(v.got < v.expected for v in self.viewers),
            "cpu_s": cpu_seconds() - self.cpu_at_go,
        }
        return report

    def status(self) -> dict[str, Any]:
        return {
            "ready": sum(viewer.ready.is_set() for viewer in self.viewers),
            "running": sum(not task.done() for task in self.tasks),
            "reconnects": self.tally.reconnects,
            "errors": dict(self.tally.errors),
        }

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.sleep(0.2)  # let the close frames go out


class LoadGenerator:
    """The parent's handle on its viewer workers; use as a context manager."""

    def __init__(self, specs: list[WorkerSpec]) -> None:
        self.specs = specs
        self.workers: list[tuple[BaseProcess, Connection]] = []

    def __enter__(self) -> LoadGenerator:
        context = multiprocessing.get_context("spawn")
        for spec in self.specs:
            parent, child = context.Pipe()
            process = context.Process(target=worker_main, args=(spec, child), daemon=True)
            process.start()
            self.workers.append((process, parent))
        return self

    def __exit__(self, *exc: object) -> None:
        for process, pipe in self.workers:
            if process.is_alive():
                try:
                    pipe.send(("stop",))
                    if pipe.poll(15):
                        pipe.recv()
                except (OSError, EOFError):
                    pass
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)

    def _ask(self, command: tuple[Any, ...] | None, expect: str, timeout: float) -> list[Any]:
        if command is not None:
            for _, pipe in self.workers:
                pipe.send(command)
        answers = []
        for process, pipe in self.workers:
            if not pipe.poll(timeout):
                raise RuntimeError(f"worker {process.pid} did not answer {expect!r} in {timeout:.0f} s")
            kind, payload = pipe.recv()
            if kind != expect:
                raise RuntimeError(f"worker {process.pid} answered {kind!r}, expected {expect!r}")
            answers.append(payload)
        return answers

    def wait_connected(self) -> dict[str, Any]:
        most = max((spec.viewers for spec in self.specs), default=0)
        answers = self._ask(None, "ready", connect_timeout(most) + 60)
        return merge_ready(answers)

    def go(self, total: int, rooms: int) -> None:
        self._ask(("go", total, rooms), "going", 30)

    def status(self) -> list[dict[str, Any]]:
        return self._ask(("status",), "status", 30)

    def collect(self, drain: float) -> list[dict[str, Any]]:
        return self._ask(("collect", drain), "report", drain + 60)


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from the workers' reports (sums, merged histogram, union of errors)."""
    histogram = Histogram()
    merged: dict[str, Any] = {"errors": {}, "other_frames": {}}
    for report in reports:
        histogram.merge(Histogram.from_sparse(report["histogram"]))
        for key in ("viewers", "expected", "delivered", "duplicates", "reordered", "resets", "reconnects"):
            merged[key] = merged.get(key, 0) + report[key]
        for key in ("errors", "other_frames"):
            for kind, count in report[key].items():
                merged[key][kind] = merged[key].get(kind, 0) + count
    merged["histogram"] = histogram
    merged["counts"] = [sum(column) for column in zip(*(r["counts"] for r in reports), strict=True)]
    arrivals = [r["first_arrival"] for r in reports if r["first_arrival"]]
    merged["first_arrival"] = min(arrivals, default=0.0)
    merged["last_arrival"] = max(r["last_arrival"] for r in reports)
    merged["still_arriving"] = any(r["still_arriving"] for r in reports)
    merged["cpu_s"] = sum(r["cpu_s"] for r in reports)
    return merged


def split_groups(groups: list[ViewerGroup], workers: int) -> list[WorkerSpec]:
    """Spread viewers over `workers` processes: big groups split evenly, small ones whole."""
    specs = [WorkerSpec() for _ in range(max(1, workers))]
    for group in groups:
        if group.count < 2 * len(specs):
            min(specs, key=lambda spec: spec.viewers).groups.append(group)
            continue
        for index, spec in enumerate(specs):
            share = group.count // len(specs) + (index < group.count % len(specs))
            spec.groups.append(
                ViewerGroup(
                    group.transport, group.port, group.slug, group.room, share, group.host, group.source
                )
            )
    return [spec for spec in specs if spec.viewers] or specs[:1]


def merge_ready(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The generator processes' "ready" answers as one: the slowest connect time and every
    connection error counted by kind (this generator's and the Node one's alike)."""
    errors: dict[str, int] = {}
    for answer in answers:
        for kind, count in answer["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    return {"connect_s": max(a["connect_s"] for a in answers), "errors": errors}
