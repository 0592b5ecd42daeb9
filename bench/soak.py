"""Soak: a few minutes of mixed traffic against one daphne, watching its memory and open files.

    .venv/bin/python -m bench.run soak --minutes 3

One server (`python -m config.serve`, production settings, a fresh SQLite database, the
in-memory channel layer: bench/server.py) gets, for the whole run:

- resident viewers of the main room on every transport (WebSocket, SSE, long-poll), connected
  from start to end; each keeps a bitmap of the posts it received, so loss and duplicates are
  exact;
- chat messages and danmaku comments posted into the main room over WebSocket, and chat
  messages posted into small rooms over HTTP;
- visitors joining and leaving: guests who open the main room or one of the small rooms over a
  random transport, stay a few seconds and leave, so connections, room feeds and presence
  entries are made and torn down all the time.

The server's resident memory, open files, threads and CPU are read from /proc at the start,
every `--sample` seconds and at the end. The verdict compares memory after the warm-up with
memory at the end, under the same load, and the open files with only the residents connected
before and after the mix (the sockets of every visitor who left must be gone). Growth beyond
the thresholds fails the run (exit status 1), as do lost, duplicated or refused posts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .clients import (
    Tally,
    Viewer,
    WriterConnection,
    open_writers,
    post_text,
    run_poll_viewer,
    run_sse_viewer,
    run_websocket_viewer,
)
from .report import command_line, machine
from .server import MAIN_ROOM, PASSWORD, WRITER, BenchDatabase, ChatServer, ProcessSample, small_room_slug

HOST = "127.0.0.1"
TRANSPORTS = ("ws", "sse", "poll")
HANDSHAKES_IN_FLIGHT = 32
CONNECT_TIMEOUT_SECS = 120
# After the mix stops: how long resident viewers get to receive the last posts, and how long to
# wait before the final idle reading (longer than the hub's 5 s linger of a room nobody watches).
DRAIN_SECS = 15.0
SETTLE_SECS = 8.0
MB = 1024 * 1024


@dataclass(frozen=True)
class SoakSettings:
    minutes: float = 3.0
    warmup: float | None = None  # seconds; default: a third of the run, at most a minute
    sample: float = 10.0
    residents: tuple[int, int, int] = (60, 30, 10)  # WebSocket, SSE, long-poll
    messages: float = 8.0  # chat messages a second over WebSocket
    danmaku: float = 8.0  # danmaku comments a second over WebSocket
    http: float = 2.0  # chat messages a second over HTTP POST, into the small rooms
    joins: float = 4.0  # visitors arriving a second
    stay: tuple[float, float] = (2.0, 10.0)  # seconds a visitor stays
    rooms: int = 20  # small rooms visitors and HTTP posts go to
    max_rss_growth_mb: float = 16.0
    max_fd_growth: int = 10
    seed: int = 1

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def warmup_seconds(self) -> float:
        return self.warmup if self.warmup is not None else min(60.0, self.seconds / 3)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SoakSettings:
        ws, sse, poll = (int(part) for part in args.residents.split(","))
        return cls(
            minutes=args.minutes,
            warmup=args.warmup,
            sample=args.sample,
            residents=(ws, sse, poll),
            messages=args.messages,
            danmaku=args.danmaku,
            http=args.http,
            joins=args.joins,
            max_rss_growth_mb=args.max_rss_growth_mb,
            max_fd_growth=args.max_fd_growth,
        )


@dataclass(frozen=True)
class Reading:
    at: float  # seconds since the mix started (negative: before it)
    phase: str
    process: ProcessSample
    sockets: int  # of the open files
    residents: int  # resident viewers connected
    visitors: int  # visitors present
    acked: int  # posts acknowledged so far
    deliveries: int  # posts received by resident viewers so far


@dataclass
class Outcome:
    readings: list[Reading] = field(default_factory=list)
    posted: int = 0
    acked: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    http_posted: int = 0
    http_failed: dict[str, int] = field(default_factory=dict)
    visits: int = 0
    lost: int = 0
    duplicates: int = 0
    resets: int = 0
    reconnects: int = 0
    viewer_errors: dict[str, int] = field(default_factory=dict)


def add_parser(commands: Any) -> None:
    """The `soak` subcommand of `python -m bench.run`."""
    soak = commands.add_parser("soak", help="minutes of mixed traffic: memory and open files over time")
    soak.add_argument("--minutes", type=float, default=3.0, help="length of the mix (default 3)")
    soak.add_argument(
        "--warmup", type=float, help="seconds before memory counts (default: a third, at most 60)"
    )
    soak.add_argument("--sample", type=float, default=10.0, help="seconds between readings (default 10)")
    soak.add_argument("--residents", default="60,30,10", help="resident viewers: WebSocket,SSE,long-poll")
    soak.add_argument("--messages", type=float, default=8.0, help="chat messages/s over WebSocket")
    soak.add_argument("--danmaku", type=float, default=8.0, help="danmaku comments/s over WebSocket")
    soak.add_argument("--http", type=float, default=2.0, help="chat messages/s over HTTP POST")
    soak.add_argument("--joins", type=float, default=4.0, help="visitors arriving per second")
    soak.add_argument("--max-rss-growth-mb", type=float, default=16.0, help="allowed after the warm-up")
    soak.add_argument("--max-fd-growth", type=int, default=10, help="allowed, idle before vs idle after")


class Soak:
    def __init__(self, server: ChatServer, settings: SoakSettings) -> None:
        self.server = server
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.outcome = Outcome()
        self.tally = Tally()  # the residents'
        self.visitor_tally = Tally()
        self.residents: list[Viewer] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.visitors: set[asyncio.Task[None]] = set()
        self.writers: list[WriterConnection] = []
        self.handshakes = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
        self.stopping = asyncio.Event()
        self.number = 0  # posts into the main room are numbered across writers
        self.capacity = int((settings.messages + settings.danmaku) * settings.seconds * 1.5) + 1000
        self.started = 0.0

    def viewer_job(self, viewer: Viewer, transport: str, slug: str) -> Coroutine[Any, Any, None]:
        port = self.server.port
        if transport == "ws":
            return run_websocket_viewer(viewer, HOST, port, slug, "chat", self.handshakes)
        if transport == "sse":
            return run_sse_viewer(viewer, HOST, port, slug, self.handshakes)
        return run_poll_viewer(viewer, HOST, port, slug, self.handshakes)

    async def run(self) -> Outcome:
        loop = asyncio.get_running_loop()
        session = await self.login()
        for transport, count in zip(TRANSPORTS, self.settings.residents, strict=True):
            for _ in range(count):
                viewer = Viewer(self.tally, 0)
                self.residents.append(viewer)
                self.tasks.append(asyncio.create_task(self.viewer_job(viewer, transport, MAIN_ROOM)))
        await asyncio.wait_for(
            asyncio.gather(*(viewer.ready.wait() for viewer in self.residents)), CONNECT_TIMEOUT_SECS
        )
        path = f"/ws/rooms/{MAIN_ROOM}/"
        cookie = f"sessionid={session['sessionid']}"
        self.writers = await open_writers(HOST, self.server.port, [path, path], {"Cookie": cookie}, "chat")
        for viewer in self.residents:
            viewer.expect(self.capacity, 1)
        await asyncio.sleep(SETTLE_SECS)
        self.started = loop.time()
        self.read("start (idle)")

        async with httpx.AsyncClient(base_url=self.server.base_url, cookies=session, timeout=30) as http:
            mix = [
                self.post_loop(self.settings.messages, self.message),
                self.post_loop(self.settings.danmaku, self.comment),
                self.http_loop(http),
                self.visitor_loop(),
                self.sample_loop(),
            ]
            mixing = [asyncio.create_task(job) for job in mix]
            await asyncio.sleep(self.settings.seconds)
            self.stopping.set()
            await asyncio.gather(*mixing)
        self.read("end (load)")
        await self.drain()
        for task in list(self.visitors):
            task.cancel()
        await asyncio.gather(*self.visitors, return_exceptions=True)
        await asyncio.sleep(SETTLE_SECS)
        self.read("end (idle)")
        await self.close()
        return self.tally_up()

    async def login(self) -> dict[str, str]:
        """The writer's session and CSRF cookies (one signed-in user posts everything)."""
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=30) as client:
            await client.get("/accounts/login/")
            token = client.cookies["csrftoken"]
            answer = await client.post(
                "/accounts/login/",
                data={"username": WRITER, "password": PASSWORD, "csrfmiddlewaretoken": token},
                headers={"Referer": self.server.base_url + "/accounts/login/"},
            )
            if answer.status_code != 302:
                raise RuntimeError(f"login failed: {answer.status_code}")
            return {"sessionid": client.cookies["sessionid"], "csrftoken": client.cookies["csrftoken"]}

    def message(self, number: int) -> str:
        return json.dumps({"type": "message", "text": post_text(number), "nonce": number})

    def comment(self, number: int) -> str:
        mode = self.rng.choice(("scroll", "top", "bottom", "reverse"))
        color = f"#{self.rng.randrange(1 << 24):06x}"
        frame = {"type": "danmaku", "text": post_text(number), "nonce": number, "mode": mode, "color": color}
        return json.dumps(frame)

    async def post_loop(self, rate: float, frame: Callable[[int], str]) -> None:
        """Post into the main room at `rate` a second, over a writer connection of its own."""
        if rate <= 0:
            return
        writer = self.writers[0 if frame == self.message else 1]
        loop = asyncio.get_running_loop()
        began = loop.time()
        sent = 0
        while not self.stopping.is_set():
            while sent < int((loop.time() - began) * rate) + 1:
                number = self.number
                self.number += 1
                sent += 1
                if number < self.capacity:
                    writer.sent_at[number] = time.time()
                    writer.send_text(frame(number))
                    self.outcome.posted += 1
            await asyncio.sleep(max(0.0, began + sent / rate - loop.time()))

    async def http_loop(self, http: httpx.AsyncClient) -> None:
        """Chat messages over HTTP POST into random small rooms (not counted by the residents)."""
        if self.settings.http <= 0:
            return
        headers = {"X-CSRFToken": http.cookies["csrftoken"], "Origin": self.server.base_url}
        number = 0
        while not self.stopping.is_set():
            slug = small_room_slug(self.rng.randrange(self.settings.rooms))
            body = {"text": f"soak http {number}", "nonce": number}
            number += 1
            try:
                answer = await http.post(f"/rooms/{slug}/messages", json=body, headers=headers)
                status = str(answer.status_code)
            except httpx.HTTPError as error:
                status = type(error).__name__
            self.outcome.http_posted += 1
            if status != "200":
                self.outcome.http_failed[status] = self.outcome.http_failed.get(status, 0) + 1
            await asyncio.sleep(self.rng.expovariate(self.settings.http))

    async def visitor_loop(self) -> None:
        """Guests arrive at random (a Poisson stream), each over a random transport."""
        if self.settings.joins <= 0:
            return
        while not self.stopping.is_set():
            task = asyncio.create_task(self.visit())
            self.visitors.add(task)
            task.add_done_callback(self.visitors.discard)
            await asyncio.sleep(self.rng.expovariate(self.settings.joins))

    async def visit(self) -> None:
        transport = self.rng.choice(TRANSPORTS)
        slug = (
            MAIN_ROOM if self.rng.random() < 0.5 else small_room_slug(self.rng.randrange(self.settings.rooms))
        )
        viewer = Viewer(self.visitor_tally, 0)
        task = asyncio.create_task(self.viewer_job(viewer, transport, slug))
        try:
            await asyncio.sleep(self.rng.uniform(*self.settings.stay))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.outcome.visits += 1

    async def sample_loop(self) -> None:
        loop = asyncio.get_running_loop()
        due = self.started
        while True:
            due += self.settings.sample
            try:
                await asyncio.wait_for(self.stopping.wait(), max(0.0, due - loop.time()))
                return
            except TimeoutError:
                self.read("warm-up" if loop.time() - self.started < self.settings.warmup_seconds else "load")

    def read(self, phase: str) -> None:
        acked = sum(len(writer.acked) for writer in self.writers)
        self.outcome.readings.append(
            Reading(
                at=asyncio.get_running_loop().time() - self.started,
                phase=phase,
                process=self.server.sample(),
                sockets=open_sockets(self.server.pid),
                residents=sum(viewer.ready.is_set() for viewer in self.residents),
                visitors=len(self.visitors),
                acked=acked,
                deliveries=sum(viewer.got for viewer in self.residents),
            )
        )

    async def drain(self) -> None:
        """Give the residents time to receive every acknowledged post."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECS
        while loop.time() < deadline:
            acked = set().union(*(writer.acked for writer in self.writers))
            if all(viewer.got >= len(acked) for viewer in self.residents):
                return
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.sleep(0.5)  # let the close frames go out

    def tally_up(self) -> Outcome:
        outcome = self.outcome
        acked = set().union(*(writer.acked for writer in self.writers))
        outcome.acked = len(acked)
        for writer in self.writers:
            for code, count in writer.refused.items():
                outcome.refused[code] = outcome.refused.get(code, 0) + count
        for viewer in self.residents:
            seen = viewer.seen or bytearray()
            outcome.lost += sum(1 for number in acked if not seen[number])
        outcome.duplicates = self.tally.duplicates
        outcome.resets = self.tally.resets
        outcome.reconnects = self.tally.reconnects
        outcome.viewer_errors = dict(self.tally.errors)
        return outcome


def log_problems(log: Path) -> list[str]:
    """What the server logged at WARNING or above, one line each: the message, and for a
    traceback the message before it and the exception that ends it."""
    problems: list[str] = []
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("Traceback"):
            end = index + 1
            while end < len(lines) and (lines[end].startswith((" ", "Traceback")) or not lines[end].strip()):
                end += 1
            cause = lines[index - 1] if index else ""
            raised = lines[end] if end < len(lines) else "?"
            problems.append(f"{cause} -> {raised}")
            index = end + 1
            continue
        if any(word in line for word in ("WARNING", "ERROR", "CRITICAL")):
            problems.append(line)
        index += 1
    return problems


def open_sockets(pid: int) -> int:
    """How many of a process's open files are sockets."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            count += fd.readlink().name.startswith("socket:")
    return count


@dataclass(frozen=True)
class Verdict:
    checks: list[tuple[str, bool]]

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.checks)


def judge(outcome: Outcome, settings: SoakSettings) -> Verdict:
    readings = outcome.readings
    start = readings[0]
    end_load = next(r for r in readings if r.phase == "end (load)")
    end_idle = readings[-1]
    warmed = next((r for r in readings if r.at >= settings.warmup_seconds), end_load)
    rss_growth = (end_load.process.rss_bytes - warmed.process.rss_bytes) / MB
    fd_growth = end_idle.process.fds - start.process.fds
    refused = sum(outcome.refused.values()) + sum(outcome.http_failed.values())
    return Verdict(
        [
            (
                f"memory after the warm-up ({warmed.at:.0f} s) to the end, under the same load: "
                f"{rss_growth:+.1f} MB (limit {settings.max_rss_growth_mb:g} MB)",
                rss_growth <= settings.max_rss_growth_mb,
            ),
            (
                f"open files with only the residents connected, before and after the mix: "
                f"{start.process.fds} -> {end_idle.process.fds} "
                f"({fd_growth:+d}, limit {settings.max_fd_growth})",
                fd_growth <= settings.max_fd_growth,
            ),
            (
                f"resident viewers ({end_idle.residents} at the end): {outcome.lost} posts lost, "
                f"{outcome.duplicates} duplicated, of {outcome.acked:,} acknowledged",
                outcome.lost == 0 and outcome.duplicates == 0,
            ),
            (
                f"posts refused or failed: {refused} "
                f"(WebSocket {outcome.refused or 'none'}, HTTP {outcome.http_failed or 'none'})",
                refused == 0,
            ),
        ]
    )


def slope_mb_per_min(readings: list[Reading], after: float) -> float | None:
    """Least-squares slope of RSS over the readings under load after the warm-up."""
    points = [
        (r.at / 60, r.process.rss_bytes / MB) for r in readings if r.at >= after and "idle" not in r.phase
    ]
    if len(points) < 3:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else None


def report(outcome: Outcome, settings: SoakSettings, verdict: Verdict, problems: list[str]) -> str:
    readings = outcome.readings
    lines = [
        f"## Soak: {settings.minutes:g} minutes of mixed traffic",
        "",
        f"Run on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Machine: {machine()}.",
        "",
        f"Command: `{command_line()}`",
        "",
        f"Mix: {sum(settings.residents)} resident viewers of the main room (WebSocket, SSE, long-poll: "
        f"{', '.join(str(n) for n in settings.residents)}); {settings.messages:g} chat messages/s and "
        f"{settings.danmaku:g} danmaku/s over WebSocket into it; {settings.http:g} messages/s over HTTP "
        f"POST into {settings.rooms} small rooms; {settings.joins:g} visitors/s joining the main or a "
        f"small room over a random transport and leaving after {settings.stay[0]:g}-{settings.stay[1]:g} s. "
        f"Warm-up: {settings.warmup_seconds:.0f} s.",
        "",
        "| t (s) | phase | server RSS | open files (sockets) | threads | server CPU | residents | visitors "
        "| posts acked | deliveries |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    previous: Reading | None = None
    for reading in readings:
        cpu = "-"
        if previous is not None and reading.at - previous.at >= 1:
            share = (reading.process.cpu_s - previous.process.cpu_s) / (reading.at - previous.at)
            cpu = f"{share * 100:.0f}%"
        lines.append(
            f"| {reading.at:.0f} | {reading.phase} | {reading.process.rss_bytes / MB:.1f} MB "
            f"| {reading.process.fds} ({reading.sockets}) | {reading.process.threads} | {cpu} "
            f"| {reading.residents} | {reading.visitors} | {reading.acked:,} | {reading.deliveries:,} |"
        )
        previous = reading
    slope = slope_mb_per_min(readings, settings.warmup_seconds)
    lines += [
        "",
        f"Visitors: {outcome.visits:,} came and went. Posts: {outcome.posted:,} into the main room "
        f"({outcome.acked:,} acknowledged), {outcome.http_posted:,} over HTTP. Resident viewers: "
        f"{outcome.reconnects} reconnects, {outcome.resets} resets, "
        f"errors {outcome.viewer_errors or 'none'}. "
        f"RSS trend after the warm-up: "
        f"{'-' if slope is None else f'{slope:+.2f} MB/min'}. "
        f"Server log: {len(problems)} warnings or errors.",
        "",
        "Verdict: " + ("**pass**" if verdict.passed else "**FAIL**"),
        "",
        *[f"- {'ok' if ok else 'FAILED'}: {text}" for text, ok in verdict.checks],
    ]
    if problems:
        lines += [
            "",
            "What the server logged at WARNING or above (first ten):",
            "",
            "```",
            *problems[:10],
            "```",
        ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """`python -m bench.run soak`: prints the table and the verdict; 1 when it fails."""
    settings = SoakSettings.from_args(args)
    with tempfile.TemporaryDirectory(prefix="chat-soak-") as folder:
        database = BenchDatabase(Path(folder), settings.rooms)
        database.build()
        server = ChatServer(database.fresh_copy(), Path(folder) / "daphne.log").start()
        try:
            print(
                f"soak: {settings.minutes:g} min against daphne pid {server.pid} on port {server.port}",
                file=sys.stderr,
                flush=True,
            )
            outcome = asyncio.run(Soak(server, settings).run())
            problems = log_problems(server.log)
        finally:
            server.stop()
    verdict = judge(outcome, settings)
    print(report(outcome, settings, verdict, problems))
    return 0 if verdict.passed else 1
