"""Run benchmark scenarios against a server this command starts itself.

    .venv/bin/python -m bench.run default --write docs/BENCHMARKS.md   # what `make bench` runs
    .venv/bin/python -m bench.run fanout --transport ws --viewers 500,1000,2000 --rates 50,100,200
    .venv/bin/python -m bench.run fanout --transport pushpin --viewers 5000,20000 --rates 10
    .venv/bin/python -m bench.run peers --viewers 500 --rates 200,1000
    .venv/bin/python -m bench.run idle --connections 1000,5000,10000
    .venv/bin/python -m bench.run rooms --rooms 1000 --per-room 5 --rates 100,200
    .venv/bin/python -m bench.run redis --viewers 2000 --rates 100 --socketio
    .venv/bin/python -m bench.run generators --viewers 500,2000 --rates 100   # Python and Node ws
    .venv/bin/python -m bench.run window --comments 100000 --clients 1,8
    .venv/bin/python -m bench.run density --comments 100000 --clients 1,4
    .venv/bin/python -m bench.run import --comments 100000 [--postgres URL]   # a file's upload
    .venv/bin/python -m bench.run soak --minutes 3       # memory and open files under a mix
    .venv/bin/python -m bench.run full --write docs/BENCHMARKS.md      # every size and rate (long)

Each scenario starts its own daphne (`python -m config.serve`, production settings, a fresh
SQLite database, the flood limit raised with CHAT_MESSAGE_RATE), connects its viewers from
worker processes, posts at the given rate and prints a Markdown table; `--json` keeps the raw
rows. `peers` runs the same fan-out against this project, Node.js socket.io and
python-socketio in one run (installing the peers under the system's temporary directory);
`generators` measures one fan-out with this project's generator and with a second, independent
one written in Node.js on `ws` (bench/node_viewers.js).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import soak
from .load import raise_fd_limit
from .peers import PEERS
from .report import command_line, section, write_section
from .scenarios import GENERATORS, Bench, Settings

GENERATOR_TITLES = {"python": "Python", "node-ws": "Node ws"}

Job = tuple[str, Callable[[Bench], dict[str, Any]]]


def _numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part]


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def default_jobs() -> list[Job]:
    """`make bench`: about twelve minutes. Issue 22's rooms, each against Node.js socket.io in
    the same run with the same generator; two of them measured again by the second generator
    (Node.js `ws`); then one of each other scenario."""
    return [
        *issue22_pairs(),
        # The project's generator checked by an independent one, same server settings.
        ("ws 500 @ 200/s, Node ws generator", _generator("node-ws", 500, 200)),
        ("ws 2000 @ 100/s, Node ws generator", _generator("node-ws", 2000, 100)),
        ("python-socketio 500 @ 200/s", lambda b: b.peer_fanout("python-socketio", 500, 200)),
        # Four times the offered load (400,000 deliveries/s): who saturates first. (At 400/s
        # both kept up on a fast machine, so that pair no longer told them apart.)
        ("ws 500 @ 800/s", lambda b: b.fanout("ws", 500, 800)),
        ("socket.io 500 @ 800/s", lambda b: b.peer_fanout("socketio", 500, 800)),
        ("sse 500 @ 20/s", lambda b: b.fanout("sse", 500, 20)),
        ("sse 500 @ 200/s", lambda b: b.fanout("sse", 500, 200)),
        ("poll 200 @ 5/s", lambda b: b.fanout("poll", 200, 5)),
        ("poll 1000 @ 5/s", lambda b: b.fanout("poll", 1000, 5)),  # issue 22, requirement 2
        ("socket.io poll 1000 @ 5/s", _peer("socketio", 1000, 5, "poll")),  # its long-polling, the same room
        ("rooms 1000 x 5 @ 100/s", lambda b: b.small_rooms(1000, 5, 100)),
        ("redis 500 @ 20/s", lambda b: b.redis_pair(500, 20)),
        ("idle 1000", lambda b: b.idle(1000)),
        ("idle 10000", lambda b: b.idle(10000)),
        ("window 100000 x 1", lambda b: b.time_window(100_000, 1)),
        ("window 100000 x 8", lambda b: b.time_window(100_000, 8)),
        ("density 100000 x 1", lambda b: b.density(100_000, 1)),
        ("import 100000", lambda b: b.import_speed(100_000)),
    ]


# Issue 22's WebSocket rooms (viewers, posts/s) and its two-process room on Redis.
ISSUE22_ROOMS = ((500, 20), (500, 200), (2000, 100), (5000, 20))
ISSUE22_REDIS = (2000, 100)


def issue22_pairs() -> list[Job]:
    """Each room of issue 22 on this project, then on socket.io, back to back."""
    jobs: list[Job] = []
    for viewers, rate in ISSUE22_ROOMS:
        jobs.append((f"ws {viewers} @ {rate}/s", _fanout("ws", viewers, rate)))
        jobs.append((f"socket.io {viewers} @ {rate}/s", _peer("socketio", viewers, rate)))
    viewers, rate = ISSUE22_REDIS
    jobs.append((f"redis {viewers} @ {rate}/s", _redis(viewers, rate)))
    jobs.append((f"socket.io redis {viewers} @ {rate}/s", _peer_redis(viewers, rate)))
    return jobs


def full_jobs() -> list[Job]:
    """Every size the issue names, at rising rates: expect the better part of an hour."""
    jobs: list[Job] = [*issue22_pairs()]
    for viewers, rate in ISSUE22_ROOMS:
        jobs += [(f"ws {viewers} @ {rate}/s, Node ws generator", _generator("node-ws", viewers, rate))]
    for transport in ("ws", "sse"):
        for viewers in (500, 1000, 2000):
            for rate in (10, 20, 50, 100, 200):
                if transport == "ws" and (viewers, rate) in ISSUE22_ROOMS:
                    continue  # measured above, beside socket.io
                jobs.append((f"{transport} {viewers} @ {rate}/s", _fanout(transport, viewers, rate)))
    for viewers in (200, 500):
        for rate in (1, 5, 20):
            jobs.append((f"poll {viewers} @ {rate}/s", _fanout("poll", viewers, rate)))
    for rate in (200, 1000):
        for kind in PEERS:
            jobs.append((f"{kind} 500 @ {rate}/s", _peer(kind, 500, rate)))
    for rate in (50, 100, 200):
        jobs.append((f"rooms 1000 x 5 @ {rate}/s", _rooms(1000, 5, rate)))
    for rate in (20, 50, 100):
        jobs.append((f"redis 500 @ {rate}/s", _redis(500, rate)))
    for connections in (1000, 5000, 10000):
        jobs.append((f"idle {connections}", _idle(connections)))
    for clients in (1, 8):
        jobs.append((f"window 100000 x {clients}", _window(100_000, clients)))
    for clients in (1, 4):
        jobs.append((f"density 100000 x {clients}", _density(100_000, clients)))
    return jobs


def _fanout(transport: str, viewers: int, rate: float) -> Callable[[Bench], dict[str, Any]]:
    if transport == "pushpin":
        return lambda b: b.pushpin_fanout(viewers, rate)
    return lambda b: b.fanout(transport, viewers, rate)


def _peer(kind: str, viewers: int, rate: float, transport: str = "ws") -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.peer_fanout(kind, viewers, rate, transport)


def _peer_redis(viewers: int, rate: float) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.peer_redis_pair(viewers, rate)


def _generator(generator: str, viewers: int, rate: float) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.generator_check(generator, viewers, rate)


def _rooms(rooms: int, per_room: int, rate: float) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.small_rooms(rooms, per_room, rate)


def _redis(viewers: int, rate: float) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.redis_pair(viewers, rate)


def _idle(connections: int) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.idle(connections)


def _window(comments: int, clients: int) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.time_window(comments, clients)


def _density(comments: int, clients: int) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.density(comments, clients)


def _import(comments: int, postgres: str | None) -> Callable[[Bench], dict[str, Any]]:
    return lambda b: b.import_speed(comments, postgres)


def jobs_for(args: argparse.Namespace) -> list[Job]:
    if args.command == "default":
        return default_jobs()
    if args.command == "full":
        return full_jobs()
    if args.command == "fanout":
        return [
            (f"{args.transport} {v} @ {r:g}/s", _fanout(args.transport, v, r))
            for v in _ints(args.viewers)
            for r in _numbers(args.rates)
        ]
    if args.command == "peers":
        kinds = [kind for kind in args.peers.split(",") if kind]
        jobs: list[Job] = []
        for viewers in _ints(args.viewers):
            for rate in _numbers(args.rates):
                jobs.append((f"ws {viewers} @ {rate:g}/s", _fanout("ws", viewers, rate)))
                jobs += [(f"{kind} {viewers} @ {rate:g}/s", _peer(kind, viewers, rate)) for kind in kinds]
        return jobs
    if args.command == "idle":
        return [(f"idle {n}", _idle(n)) for n in _ints(args.connections)]
    if args.command == "rooms":
        return [
            (f"rooms {args.rooms} x {args.per_room} @ {r:g}/s", _rooms(args.rooms, args.per_room, r))
            for r in _numbers(args.rates)
        ]
    if args.command == "window":
        return [(f"window {args.comments} x {c}", _window(args.comments, c)) for c in _ints(args.clients)]
    if args.command == "density":
        return [(f"density {args.comments} x {c}", _density(args.comments, c)) for c in _ints(args.clients)]
    if args.command == "import":
        return [(f"import {n}", _import(n, args.postgres)) for n in _ints(args.comments)]
    if args.command == "redis":
        jobs = []
        for viewers in _ints(args.viewers):
            for rate in _numbers(args.rates):
                jobs.append((f"redis {viewers} @ {rate:g}/s", _redis(viewers, rate)))
                if args.socketio:
                    jobs.append((f"socket.io redis {viewers} @ {rate:g}/s", _peer_redis(viewers, rate)))
        return jobs
    if args.command == "generators":
        return [
            (f"ws {v} @ {r:g}/s, {GENERATOR_TITLES[g]} generator", _generator(g, v, r))
            for v in _ints(args.viewers)
            for r in _numbers(args.rates)
            for g in GENERATORS
        ]
    raise ValueError(args.command)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="how long the writer posts (default 10)")
    parser.add_argument(
        "--drain", type=float, default=15, help="seconds to wait for late deliveries (default 15)"
    )
    parser.add_argument("--workers", type=int, default=2, help="viewer worker processes (default 2)")
    parser.add_argument("--json", type=Path, help="also write the raw rows here")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="record each daphne with py-spy (bench/profile.py)"
    )
    parser.add_argument("--write", type=Path, help="rewrite the generated section of this Markdown file")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("default", help="the set `make bench` runs (a few minutes)")
    commands.add_parser("full", help="every size and rate (long)")
    fanout = commands.add_parser("fanout", help="one room, N viewers, rising rates")
    fanout.add_argument(
        "--transport",
        choices=("ws", "sse", "poll", "pushpin"),
        default="ws",
        help="pushpin: SSE viewers held by Pushpin in front of daphne (GRIP)",
    )
    fanout.add_argument("--viewers", default="500")
    fanout.add_argument("--rates", default="20,200")
    peers = commands.add_parser("peers", help="the WebSocket fan-out here and on the peers, in one run")
    peers.add_argument("--viewers", default="500")
    peers.add_argument("--rates", default="200")
    peers.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated, from {', '.join(PEERS)}")
    idle = commands.add_parser("idle", help="idle WebSocket connections: memory per connection")
    idle.add_argument("--connections", default="1000,5000,10000")
    rooms = commands.add_parser("rooms", help="many small rooms")
    rooms.add_argument("--rooms", type=int, default=1000)
    rooms.add_argument("--per-room", type=int, default=5)
    rooms.add_argument("--rates", default="100")
    window = commands.add_parser("window", help="time-window queries on a video with many comments")
    window.add_argument("--comments", type=int, default=100_000)
    window.add_argument("--clients", default="1,8", help="concurrent HTTP clients, comma-separated")
    dens = commands.add_parser("density", help="the density curve of a video with many comments")
    dens.add_argument("--comments", type=int, default=100_000)
    dens.add_argument("--clients", default="1,4", help="concurrent HTTP clients, comma-separated")
    imports = commands.add_parser("import", help="a big Bilibili file uploaded while another room posts")
    imports.add_argument("--comments", default="100000", help="comments in the file, comma-separated sizes")
    imports.add_argument("--postgres", metavar="URL", help="on a fresh database of this PostgreSQL server")
    redis = commands.add_parser("redis", help="two daphne processes on the local Redis")
    redis.add_argument("--viewers", default="500")
    redis.add_argument("--rates", default="20")
    redis.add_argument(
        "--socketio", action="store_true", help="also socket.io, two processes on its Redis adapter"
    )
    generators = commands.add_parser(
        "generators", help="the WebSocket fan-out measured by both generators (Python, Node.js ws)"
    )
    generators.add_argument("--viewers", default="500,2000")
    generators.add_argument("--rates", default="100")
    soak.add_parser(commands)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_fd_limit()
    if args.command == "soak":
        return soak.run(args)
    jobs = jobs_for(args)
    small_rooms = args.rooms if args.command == "rooms" else 1000
    rows: list[dict[str, Any]] = []
    failures = 0
    started = time.monotonic()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as folder:
        bench = Bench(Path(folder), Settings(args.workers, args.seconds, args.drain), small_rooms)
        bench.profile_dir = args.profile
        for name, job in jobs:
            print(f"[{time.monotonic() - started:6.0f} s] {name} ...", file=sys.stderr, flush=True)
            try:
                row = job(bench)
            except Exception:
                failures += 1
                print(f"{name} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
                continue
            row["job"] = name
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        versions = dict(bench.versions)
    generated = section(rows, command_line(), date, versions)
    print(generated)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if args.write:
        write_section(args.write, generated)
    print(f"{len(rows)} scenarios in {time.monotonic() - started:.0f} s, {failures} failed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
