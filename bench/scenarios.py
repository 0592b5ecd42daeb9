"""The benchmark scenarios. Each starts its own server(s), measures, stops them, returns a row.

Every delivery scenario works the same way: viewer workers connect and wait; one signed-in
writer (one connection per room) posts `rate` messages a second for `seconds`, message n into
room n % rooms, each carrying its number and send time; the workers record each arrival. A
row reports deliveries/s (deliveries / time from the first post to the last arrival), latency
percentiles, lost (never arrived before the cut-off) and duplicated posts, the server's CPU
(100% = one core) and resident memory, and the generator's own CPU, so a saturated generator
shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import density, importing, timewindow
from .clients import (
    PingingViewerConnection,
    Tally,
    Viewer,
    WriterConnection,
    open_writers,
    post_at_rate,
)
from .histogram import Histogram
from .load import LoadGenerator, ViewerGroup, WorkerSpec, merge_reports, raise_fd_limit, split_groups
from .node_viewers import NodeLoadGenerator, install_ws
from .peers import PEER_TITLES, PeerServer, install, install_socketio_redis
from .profile import Profiler
from .pushpin import PushpinServer
from .server import MAIN_ROOM, BenchDatabase, ChatServer, ProcessSample, small_room_slug
from .webhooks import postgres_database

HOST = "127.0.0.1"
REDIS_URL = "redis://127.0.0.1:6379/14"
SETTLE_SECS = 1.0  # after connecting: let presence broadcasts and handshakes finish
IDLE_SETTLE_SECS = 5.0
IDLE_CPU_WINDOW_SECS = 5.0
WRITER_OPEN_BATCH = 50
FD_MARGIN = 200  # files a server needs besides its connections
# The load generators: this project's (bench/load.py) and a second, independent one in Node.js.
GENERATORS: dict[str, Callable[[list[WorkerSpec]], Any]] = {
    "python": LoadGenerator,
    "node-ws": NodeLoadGenerator,
}
# A generator process at this share of a core is the limit: measure again with twice as many
# processes, up to this many (`Bench.generator_check`).
GENERATOR_SATURATED_PCT = 90.0
MAX_GENERATOR_PROCESSES = 8
# Idle connections per local address: one address has about 28,000 ephemeral ports towards the
# server's port (net.ipv4.ip_local_port_range 32768-60999), so 50,000 come from 127.0.0.1-3.
CONNECTIONS_PER_SOURCE = 20_000
# The idle scenario's ping round trip: these connections each send ROUNDS `ping` frames, one
# round every PING_INTERVAL_SECS, while all the others are idle.
PINGING_CONNECTIONS = 10
PING_ROUNDS = 20
PING_INTERVAL_SECS = 0.1
PING_TIMEOUT_SECS = 10.0


class Sampled(Protocol):
    def sample(self) -> ProcessSample: ...


def main_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Settings:
    workers: int = 2
    seconds: float = 10.0
    drain: float = 15.0


WRITER_CLOSE_SECS = 3.0


async def close_writers(writers: list[WriterConnection]) -> None:
    """Close the writers' connections before the event loop ends: the closing handshake, then
    the socket itself for any the server has not closed by WRITER_CLOSE_SECS. (A loop that ended
    first left their sockets open until the collector found them, a ResourceWarning in whatever
    test was running then.)"""
    for writer in writers:
        writer.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(writer.closed for writer in writers)), WRITER_CLOSE_SECS)
    for writer in writers:
        if writer.transport is not None and not writer.transport.is_closing():
            writer.transport.close()
    await asyncio.sleep(0)  # let the transports finish closing


class Bench:
    """Runs scenarios in one working folder (databases, server logs)."""

    def __init__(self, folder: Path, settings: Settings, small_rooms: int = 1000) -> None:
        self.folder = folder
        self.settings = settings
        self.database = BenchDatabase(folder, small_rooms)
        self.database.build()
        self._logs = 0
        self.versions: dict[str, str] = {}
        self.profile_dir: Path | None = None  # py-spy recordings of the servers (bench/profile.py)

    def _log(self, name: str) -> Path:
        self._logs += 1
        return self.folder / f"{self._logs:02d}-{name}.log"

    @contextlib.contextmanager
    def chat_servers(
        self, count: int = 1, extra_env: dict[str, str] | None = None
    ) -> Iterator[list[ChatServer]]:
        database = self.database.fresh_copy()
        servers = [ChatServer(database, self._log(f"daphne{i}"), extra_env) for i in range(count)]
        try:
            for server in servers:
                server.start()
            yield servers
        finally:
            for server in servers:
                server.stop()

    # Scenarios.

    def fanout(
        self, transport: str, viewers: int, rate: float, generator: str = "python", workers: int | None = None
    ) -> dict[str, Any]:
        """N viewers of one room over one transport, one writer; `generator` connects the viewers
        from `workers` processes (default: the run's --workers)."""
        require_descriptors(viewers)
        if generator == "node-ws":
            self.versions["ws"] = install_ws()
        with self.chat_servers() as (server,):
            groups = [ViewerGroup(transport, server.port, MAIN_ROOM, 0, viewers)]
            cookie = server.login()
            row = self._measure(
                split_groups(groups, workers or self.settings.workers),
                [server],
                lambda: open_writers(
                    HOST, server.port, [f"/ws/rooms/{MAIN_ROOM}/"], {"Cookie": cookie}, "chat"
                ),
                rate,
                rooms=1,
                load_generator=GENERATORS[generator],
            )
            problems = server.log_problems()
        return {
            "scenario": "fanout",
            "server": "this project (daphne)",
            "transport": transport,
            "viewers": viewers,
            "generator": generator,
            **row,
            "log_problems": problems[:5],
            "log_problem_count": len(problems),
        }

    def pushpin_fanout(self, viewers: int, rate: float) -> dict[str, Any]:
        """N SSE viewers of one room held by Pushpin in front of one daphne in GRIP mode (the
        `fanout` scenario's writer posts to daphne; Pushpin's CPU and memory reported apart)."""
        database_server = ChatServer(self.database.fresh_copy(), self._log("daphne-grip"))
        pushpin = PushpinServer(database_server.port, self._log("pushpin"))
        database_server.env.update(pushpin.grip_env)
        try:
            pushpin.start()
            server = database_server.start()
            groups = [ViewerGroup("sse", pushpin.port, MAIN_ROOM, 0, viewers)]
            cookie = server.login()
            row = self._measure(
                split_groups(groups, self.settings.workers),
                [server, pushpin],
                lambda: open_writers(
                    HOST, server.port, [f"/ws/rooms/{MAIN_ROOM}/"], {"Cookie": cookie}, "chat"
                ),
                rate,
                rooms=1,
            )
            problems = server.log_problems() + pushpin.log_problems()
        finally:
            database_server.stop()
            pushpin.stop()
        return {
            "scenario": "fanout",
            "server": "this project (daphne) behind Pushpin",
            "transport": "sse",
            "viewers": viewers,
            **row,
            "log_problems": problems[:5],
            "log_problem_count": len(problems),
        }

    def peer_fanout(self, kind: str, viewers: int, rate: float, transport: str = "ws") -> dict[str, Any]:
        """The fan-out scenario against a peer server over socket.io's WebSocket transport, or
        (`transport="poll"`, Node.js socket.io only) its viewers over Engine.IO's long-polling,
        the writer over WebSocket as here."""
        require_descriptors(viewers)
        if kind not in self.versions:
            self.versions[kind] = install(kind)
        polling = transport == "poll"
        if polling and kind != "socketio":
            raise ValueError("long-polling viewers are measured on Node.js socket.io only")
        extra_env = {"SOCKETIO_TRANSPORTS": "polling,websocket"} if polling else None
        peer = PeerServer(kind, self._log(kind), extra_env).start()
        try:
            group = ViewerGroup("socketio-poll" if polling else "socketio", peer.port, MAIN_ROOM, 0, viewers)
            path = "/socket.io/?EIO=4&transport=websocket"
            row = self._measure(
                split_groups([group], self.settings.workers),
                [peer],
                lambda: open_writers(HOST, peer.port, [path], {}, "socketio"),
                rate,
                rooms=1,
            )
        finally:
            peer.stop()
        return {
            "scenario": "fanout",
            "server": f"{PEER_TITLES[kind]} {self.versions[kind]}",
            "peer": kind,
            "transport": transport,
            "viewers": viewers,
            **row,
        }

    def small_rooms(self, rooms: int, per_room: int, rate: float) -> dict[str, Any]:
        """Many small rooms: `per_room` viewers each, one writer connection per room."""
        with self.chat_servers() as (server,):
            groups = [ViewerGroup("ws", server.port, small_room_slug(i), i, per_room) for i in range(rooms)]
            cookie = server.login()
            paths = [f"/ws/rooms/{small_room_slug(i)}/" for i in range(rooms)]

            async def writers() -> list[WriterConnection]:
                opened: list[WriterConnection] = []
                for start in range(0, rooms, WRITER_OPEN_BATCH):
                    batch = paths[start : start + WRITER_OPEN_BATCH]
                    chunks = [open_writers(HOST, server.port, [p], {"Cookie": cookie}, "chat") for p in batch]
                    for chunk in await asyncio.gather(*chunks):
                        opened.extend(chunk)
                return opened

            row = self._measure(split_groups(groups, self.settings.workers), [server], writers, rate, rooms)
            problems = server.log_problems()
        return {
            "scenario": "rooms",
            "server": "this project (daphne)",
            "transport": "ws",
            "viewers": rooms * per_room,
            "rooms": rooms,
            **row,
            "log_problems": problems[:5],
            "log_problem_count": len(problems),
        }

    def redis_pair(self, viewers: int, rate: float) -> dict[str, Any]:
        """Two daphne processes on Redis, viewers split between them, the writer on the first."""
        require_descriptors(viewers)
        prefix = f"bench-{uuid.uuid4().hex[:10]}"
        try:
            with self.chat_servers(2, {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}) as servers:
                one, two = servers
                specs = _split_between(servers, "ws", viewers, max(2, self.settings.workers))
                cookie = one.login()
                row = self._measure(
                    specs,
                    servers,
                    lambda: open_writers(
                        HOST, one.port, [f"/ws/rooms/{MAIN_ROOM}/"], {"Cookie": cookie}, "chat"
                    ),
                    rate,
                    rooms=1,
                    per_worker_label=lambda index: "writer's process" if index % 2 == 0 else "other process",
                )
                problems = one.log_problems() + two.log_problems()
        finally:
            _delete_redis_keys(prefix)
        return {
            "scenario": "redis",
            "server": "this project, 2 daphne processes on Redis",
            "transport": "ws",
            "viewers": viewers,
            **row,
            "log_problems": problems[:5],
            "log_problem_count": len(problems),
        }

    def peer_redis_pair(self, viewers: int, rate: float) -> dict[str, Any]:
        """`redis_pair` against Node.js socket.io: two processes sharing the room through
        socket.io's Redis adapter, viewers split between them, the writer on the first."""
        require_descriptors(viewers)
        if "socketio" not in self.versions:
            self.versions["socketio"] = install(kind="socketio")
        adapter = self.versions["socketio-redis-adapter"] = install_socketio_redis()
        env = {"REDIS_URL": REDIS_URL, "REDIS_KEY": f"bench-{uuid.uuid4().hex[:10]}"}
        peers = [PeerServer("socketio", self._log(f"socketio-redis{i}"), env) for i in range(2)]
        path = "/socket.io/?EIO=4&transport=websocket"
        try:
            for peer in peers:
                peer.start()
            row = self._measure(
                _split_between(peers, "socketio", viewers, max(2, self.settings.workers)),
                peers,
                lambda: open_writers(HOST, peers[0].port, [path], {}, "socketio"),
                rate,
                rooms=1,
                per_worker_label=lambda index: "writer's process" if index % 2 == 0 else "other process",
            )
        finally:
            for peer in peers:
                peer.stop()
        return {
            "scenario": "redis",
            "server": f"{PEER_TITLES['socketio']} {self.versions['socketio']}, 2 processes on Redis "
            f"(@socket.io/redis-adapter {adapter})",
            "peer": "socketio",
            "transport": "ws",
            "viewers": viewers,
            **row,
        }

    def generator_check(self, generator: str, viewers: int, rate: float) -> dict[str, Any]:
        """The WebSocket fan-out measured by `generator`; while one of its processes is at a
        core (the generator is the limit), measured again with twice as many processes. The
        row is the last measurement; `saturated_runs` keeps the ones before it."""
        workers = max(1, self.settings.workers)
        earlier: list[dict[str, Any]] = []
        while True:
            row = self.fanout("ws", viewers, rate, generator, workers)
            busiest = row["generator_cpu_pct_busiest"]
            if busiest < GENERATOR_SATURATED_PCT or workers * 2 > MAX_GENERATOR_PROCESSES:
                break
            earlier.append(
                {
                    "processes": workers,
                    "busiest_pct": busiest,
                    "deliveries_per_s": row["deliveries_per_s"],
                    "p99_ms": row["p99_ms"],
                }
            )
            workers *= 2
        row["saturated_runs"] = earlier
        return row

    def time_window(self, comments: int, clients: int, window_s: int = 30) -> dict[str, Any]:
        """Random time-window queries on a recorded video holding `comments` comments."""
        return self._recorded_video(
            "window",
            comments,
            lambda server: timewindow.measure(server, comments, clients, window_s, self.settings.seconds),
        )

    def density(self, comments: int, clients: int, buckets: int = 100) -> dict[str, Any]:
        """The density curve of a recorded video holding `comments` comments, counted per request."""
        return self._recorded_video(
            "density",
            comments,
            lambda server: density.measure(server, comments, clients, buckets, self.settings.seconds),
        )

    def import_speed(self, comments: int, postgres: str | None = None) -> dict[str, Any]:
        """A generated Bilibili file of `comments` comments uploaded through the moderator's
        import while another room posts; on a fresh PostgreSQL database of `postgres` if given."""
        database = self.database.fresh_copy()
        if postgres is None:
            return {
                **importing.run(database, self.folder, self._log("import"), comments),
                "database": "SQLite",
            }
        with postgres_database(postgres, database) as database_env:
            row = importing.run(database, self.folder, self._log("import"), comments, database_env)
        return {**row, "database": "PostgreSQL"}

    def _recorded_video(
        self, name: str, comments: int, measure: Callable[[ChatServer], dict[str, Any]]
    ) -> dict[str, Any]:
        """`measure` against a server whose recorded video holds `comments` comments."""
        database = self.database.fresh_copy()
        seed_s = timewindow.seed(database, comments)
        server = ChatServer(database, self._log(name)).start()
        try:
            row = measure(server)
            row["seed_s"] = round(seed_s, 1)
            problems = server.log_problems()
        finally:
            server.stop()
        return {**row, "log_problems": problems[:5], "log_problem_count": len(problems)}

    def idle(self, connections: int) -> dict[str, Any]:
        """`connections` idle WebSocket viewers of one room: the server's memory per connection,
        and the ping round trip of a few connections while all are idle."""
        # As an operator would (LimitNOFILE in the systemd unit, docs/OPERATIONS.md): the server
        # and the workers inherit it. Only root may raise the hard limit.
        hard = raise_fd_limit(connections + FD_MARGIN)
        if connections + FD_MARGIN > hard:
            raise RuntimeError(
                f"{connections} connections need a hard limit on open files of at least "
                f"{connections + FD_MARGIN} (it is {hard}; `ulimit -Hn`, or run as root)"
            )
        with self.chat_servers() as (server,):
            row = asyncio.run(self._idle(server, connections))
            problems = server.log_problems()
        return {
            "scenario": "idle",
            "server": "this project (daphne)",
            "transport": "ws",
            "viewers": connections,
            **row,
            "log_problems": problems[:5],
            "log_problem_count": len(problems),
        }

    async def _idle(self, server: ChatServer, connections: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        # A few connections first, so the hub, the room's feed and presence exist before the
        # baseline: the delta is then what the N connections themselves cost.
        # They are also the ones that measure the ping round trip at the end.
        warm_tally = Tally()
        warm: list[PingingViewerConnection] = []
        for _ in range(PINGING_CONNECTIONS):
            viewer = Viewer(warm_tally, 0)
            connection = PingingViewerConnection(viewer, HOST, server.port, f"/ws/rooms/{MAIN_ROOM}/")
            await loop.create_connection(lambda c=connection: c, HOST, server.port)  # type: ignore[misc]
            await asyncio.wait_for(viewer.ready.wait(), 30)
            warm.append(connection)
        await asyncio.sleep(IDLE_SETTLE_SECS)
        before = server.sample()
        specs = split_groups(idle_groups(server.port, connections), self.settings.workers)
        generator = LoadGenerator(specs)
        await loop.run_in_executor(None, generator.__enter__)
        try:
            connected = await loop.run_in_executor(None, generator.wait_connected)
            connected_sample = server.sample()
            await asyncio.sleep(IDLE_SETTLE_SECS)
            settled = server.sample()
            await asyncio.sleep(IDLE_CPU_WINDOW_SECS)
            after = server.sample()
            status = await loop.run_in_executor(None, generator.status)
            pings = await ping_round_trips(warm)
        finally:
            await loop.run_in_executor(None, generator.__exit__, None, None, None)
            for connection in warm:
                connection.close()
        ready = sum(s["ready"] for s in status)
        delta = after.rss_bytes - before.rss_bytes
        return {
            "connected": ready,
            "connect_s": round(connected["connect_s"], 1),
            "connects_per_s": round(connections / max(connected["connect_s"], 1e-9)),
            "connect_cpu_pct": round(
                100 * (connected_sample.cpu_s - before.cpu_s) / max(connected["connect_s"], 1e-9)
            ),
            "rss_before_mb": round(before.rss_bytes / 2**20, 1),
            "server_rss_mb": round(after.rss_bytes / 2**20, 1),
            "kb_per_connection": round(delta / connections / 1024, 1),
            "server_fds": after.fds,
            "server_threads": after.threads,
            "idle_cpu_pct": round(100 * (after.cpu_s - settled.cpu_s) / IDLE_CPU_WINDOW_SECS, 1),
            "sources": len({group.source for spec in specs for group in spec.groups}),
            **pings,
            "reconnects": sum(s["reconnects"] for s in status),
            "errors": {**connected["errors"], **_merge_counts(s["errors"] for s in status)},
        }

    # The measurement shared by the delivery scenarios.

    def _profilers(self, servers: Sequence[Sampled]) -> list[Profiler]:
        """py-spy on each daphne of the scenario while the writer posts (`--profile`)."""
        if self.profile_dir is None:
            return []
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        return [
            Profiler(server.pid, self.profile_dir / f"{self._logs:02d}-{index}.txt")
            for index, server in enumerate(servers)
            if isinstance(server, ChatServer)
        ]

    def _measure(
        self,
        specs: list[WorkerSpec],
        servers: Sequence[Sampled],
        open_writers_: Callable[[], Awaitable[list[WriterConnection]]],
        rate: float,
        rooms: int,
        per_worker_label: Callable[[int], str] | None = None,
        load_generator: Callable[[list[WorkerSpec]], Any] = LoadGenerator,
    ) -> dict[str, Any]:
        total = int(rate * self.settings.seconds)
        with load_generator(specs) as generator:
            connected = generator.wait_connected()

            async def drive() -> tuple[
                dict[str, Any], list[dict[str, Any]], list[ProcessSample], float, float, float
            ]:
                loop = asyncio.get_running_loop()
                writers = await open_writers_()
                await asyncio.sleep(SETTLE_SECS)
                await loop.run_in_executor(None, generator.go, total, rooms)
                before = [server.sample() for server in servers]
                profilers = self._profilers(servers)
                main_before = main_cpu_seconds()
                wall_before = time.time()
                posting = await post_at_rate(writers, rate, self.settings.seconds, self.settings.drain)
                reports = await loop.run_in_executor(None, generator.collect, self.settings.drain)
                after = [server.sample() for server in servers]
                profiles.extend(profiler.stop() for profiler in profilers)
                wall = time.time() - wall_before
                main_cpu = main_cpu_seconds() - main_before
                await close_writers(writers)
                server_cpu = sum(a.cpu_s - b.cpu_s for a, b in zip(after, before, strict=True))
                before_each.extend(before)
                return posting, reports, after, server_cpu / wall, main_cpu / wall, wall

            before_each: list[ProcessSample] = []
            profiles: list[dict[str, Any]] = []
            posting, reports, after, server_cpu_share, main_cpu_share, wall = asyncio.run(drive())
        merged = merge_reports(reports)
        histogram: Histogram = merged["histogram"]
        # Loss counts only posts the server took: acknowledged, or delivered to anyone. A post
        # still queued unanswered when the writer gave up was never written, so never lost.
        counts: list[int] = merged["counts"]
        accepted = posting["acked"] | {number for number, count in enumerate(counts) if count}
        room_viewers = [0] * rooms
        for spec in specs:
            for group in spec.groups:
                room_viewers[group.room] += group.count
        expected = sum(room_viewers[number % rooms] for number in accepted)
        delivered = sum(counts[number] for number in accepted)
        span = max(merged["last_arrival"] - posting["started"], 1e-9)
        row: dict[str, Any] = {
            "rooms": rooms,
            "rate": rate,
            "seconds": self.settings.seconds,
            "posted": posting["posted"],
            "acked": len(posting["acked"]),
            "unanswered": posting["posted"] - len(accepted),
            "refused": posting["refused"],
            "post_rate": round(
                len(posting["acked"]) / max(posting["last_ack"] - posting["started"], 1e-9), 1
            ),
            "expected": expected,
            "delivered": delivered,
            "deliveries_per_s": round(merged["delivered"] / span),
            "lost": expected - delivered,
            "still_arriving": merged["still_arriving"],
            "duplicates": merged["duplicates"],
            "reordered": merged["reordered"],
            "resets": merged["resets"],
            "reconnects": merged["reconnects"],
            "ack_p50_ms": posting["ack_latency"].percentile(0.50),
            "ack_p99_ms": posting["ack_latency"].percentile(0.99),
            "p50_ms": histogram.percentile(0.50),
            "p99_ms": histogram.percentile(0.99),
            "max_ms": round(histogram.max_ms, 1),
            "server_cpu_pct": round(100 * server_cpu_share, 1),
            "server_rss_mb": round(sum(s.rss_bytes for s in after) / 2**20, 1),
            # Each server apart (daphne, then Pushpin, in the Pushpin scenario).
            "server_cpu_pct_each": [
                round(100 * (a.cpu_s - b.cpu_s) / wall, 1) for a, b in zip(after, before_each, strict=True)
            ],
            "server_rss_mb_each": [round(s.rss_bytes / 2**20, 1) for s in after],
            "generator_cpu_pct": round(100 * (merged["cpu_s"] / wall + main_cpu_share), 1),
            # The busiest viewer process: one at a core is the limit, whatever the total says.
            "generator_cpu_pct_busiest": round(100 * max(r["cpu_s"] for r in reports) / wall, 1),
            "generator_processes": len(specs) + 1,
            "connect_s": round(connected["connect_s"], 1),
            "errors": {**connected["errors"], **merged["errors"]},
            "other_frames": merged["other_frames"],
        }
        if profiles:
            row["profile"] = profiles
        if per_worker_label is not None:
            parts: dict[str, Histogram] = {}
            for index, report in enumerate(reports):
                parts.setdefault(per_worker_label(index), Histogram()).merge(
                    Histogram.from_sparse(report["histogram"])
                )
            row["p99_by_part"] = {label: h.percentile(0.99) for label, h in parts.items()}
        return row


def require_descriptors(connections: int) -> None:
    """Refuse, with the reason, a size the hard limit on open files cannot hold (a server and
    the generator raise their soft limit to it; the systemd unit's `LimitNOFILE` does the same)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if connections + FD_MARGIN > hard:
        raise RuntimeError(f"{connections} connections need a hard limit on open files above {hard}")


def _split_between(servers: Sequence[Any], transport: str, viewers: int, workers: int) -> list[WorkerSpec]:
    """`viewers` over `workers` processes, worker i connecting to server i % len(servers)."""
    specs = [WorkerSpec() for _ in range(workers)]
    for index, spec in enumerate(specs):
        share = viewers // workers + (index < viewers % workers)
        spec.groups.append(ViewerGroup(transport, servers[index % len(servers)].port, MAIN_ROOM, 0, share))
    return specs


def idle_groups(port: int, connections: int) -> list[ViewerGroup]:
    """The idle scenario's viewers, at most CONNECTIONS_PER_SOURCE from each loopback address."""
    groups = []
    for index, start in enumerate(range(0, connections, CONNECTIONS_PER_SOURCE)):
        count = min(CONNECTIONS_PER_SOURCE, connections - start)
        groups.append(ViewerGroup("ws", port, MAIN_ROOM, 0, count, HOST, source=f"127.0.0.{index + 1}"))
    return groups


async def ping_round_trips(connections: Sequence[PingingViewerConnection]) -> dict[str, Any]:
    """`ping` -> `pong` round trips of `connections`, PING_ROUNDS rounds: p50, p99 and max in
    ms, and how many pings went unanswered within PING_TIMEOUT_SECS."""
    rtts: list[float] = []
    lost = 0
    for _ in range(PING_ROUNDS):
        answers = await asyncio.gather(
            *(asyncio.wait_for(connection.ping(), PING_TIMEOUT_SECS) for connection in connections),
            return_exceptions=True,
        )
        for answer in answers:
            if isinstance(answer, float):
                rtts.append(answer * 1000)
            else:
                lost += 1
        await asyncio.sleep(PING_INTERVAL_SECS)
    rtts.sort()

    def at(fraction: float) -> float | None:
        return round(rtts[min(len(rtts) - 1, int(fraction * len(rtts)))], 1) if rtts else None

    return {"ping_p50_ms": at(0.5), "ping_p99_ms": at(0.99), "ping_max_ms": at(1.0), "pings_lost": lost}


def _merge_counts(counts: Iterator[dict[str, int]] | Any) -> dict[str, int]:
    merged: dict[str, int] = {}
    for part in counts:
        for key, value in part.items():
            merged[key] = merged.get(key, 0) + value
    return merged


def _delete_redis_keys(prefix: str) -> None:
    """Remove what the run left in Redis (its layer groups, presence, rate-limit counters)."""
    try:
        import redis
    except ImportError:
        return
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass
    finally:
        client.close()
