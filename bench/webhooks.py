"""Webhooks: deliveries per second to a local receiver, and the write path's p99 with ten
endpoints configured against none (issue 15).

    .venv/bin/python -m bench.webhooks --posts 500 --endpoints 10
    .venv/bin/python -m bench.webhooks --postgres postgres://postgres@127.0.0.1:5432/chat

Runs on fresh copies of one database, each with its own daphne (production settings), all
five by default or those named by `--runs`:
- `none`: no endpoints (the write path's baseline);
- `in-process`: `--endpoints` endpoints on a local receiver, the server's own sender threads;
- `worker`: the same with the sender in its own process (`WEBHOOK_WORKER=off` and
  `manage.py runwebhooks`);
- `burst` and `burst-in-process`: those two with the posts sent as fast as they are
  acknowledged (a backlog: the sender's throughput).
Each run posts `--posts` messages over one WebSocket, one at a time, at `--rate` per second,
timing each post until its ack (the write path), and counts what the receiver gets and how fast
(every post makes `--endpoints` deliveries).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.sync.client import connect

from webhooks.priority import yield_cores

from .server import (
    MAIN_ROOM,
    PASSWORD,
    ROOT,
    WRITER,
    BenchDatabase,
    ChatServer,
    base_env,
    manage,
    stop_process,
)

ALLOW_PRIVATE = {"WEBHOOK_ALLOW_PRIVATE": "1"}  # the receiver is on 127.0.0.1
DRAIN_TIMEOUT_SECS = 300.0
BURST_RATE = 1_000_000.0  # posts per second: as fast as the acks come
RUNS = ("none", "in-process", "worker", "burst", "burst-in-process")
# The receiver stands for a service on another machine: here it shares the two cores with the
# server and the client, so it runs at the lowest priority and takes what they leave, as the
# sender's process does (webhooks/priority.py). At the same priority, its CPU was part of
# what the write path measured.


class Counter:
    """How many requests the receiver got, and when the first and the last came (shared with
    the receiver's process: CLOCK_MONOTONIC is one clock for every process)."""

    def __init__(self) -> None:
        self._count = multiprocessing.Value("q", 0)
        self._first = multiprocessing.Value("d", 0.0)
        self._last = multiprocessing.Value("d", 0.0)

    def add(self) -> None:
        now = time.monotonic()
        with self._count.get_lock():
            if self._count.value == 0:
                self._first.value = now
            self._count.value += 1
            self._last.value = now

    @property
    def count(self) -> int:
        return int(self._count.value)

    @property
    def span(self) -> float:
        return float(self._last.value - self._first.value)


def _serve(counter: Counter, port: Any, ready: Any) -> None:
    """The receiver's process: answers 200 at once, counting."""
    yield_cores()  # as the sender: the receiver stands for another machine

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers answer
        disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            counter.add()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 1024
    port.value = server.server_address[1]
    ready.set()
    server.serve_forever()


@contextmanager
def receiver() -> Iterator[tuple[str, Counter]]:
    """A local receiver in a process of its own (its threads would otherwise hold the GIL of
    the process that times the posts); its URL and its counter."""
    counter = Counter()
    port = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(counter, port, ready), daemon=True)
    process.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the receiver did not start")
        yield f"http://127.0.0.1:{port.value}/hook", counter
    finally:
        process.terminate()
        process.join(10)


def post_latencies(server: ChatServer, posts: int, rate: float) -> list[float]:
    """Seconds from each post's send to its ack, at `rate` posts per second."""
    headers = {"Cookie": server.login(), "Origin": server.base_url}
    ws_url = server.base_url.replace("http://", "ws://") + f"/ws/rooms/{MAIN_ROOM}/"
    latencies: list[float] = []
    with connect(ws_url, additional_headers=headers, max_size=None) as socket:
        json.loads(socket.recv(timeout=10))  # hello
        start = time.monotonic()
        for nonce in range(posts):
            due = start + nonce / rate
            time.sleep(max(0.0, due - time.monotonic()))
            sent = time.monotonic()
            socket.send(json.dumps({"type": "message", "text": f"post {nonce}", "nonce": nonce}))
            while True:
                frame = json.loads(socket.recv(timeout=30))
                if frame.get("nonce") == nonce and frame.get("type") in {"ack", "error"}:
                    if frame["type"] == "error":
                        raise RuntimeError(f"post refused: {frame}")
                    break
            latencies.append(time.monotonic() - sent)
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def postgres_database(server_url: str, template: Path) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database on `server_url` with the benchmark's user and room (the
    DATABASE_URL to run on), dropped afterwards."""
    import psycopg

    def on(name: str) -> str:
        return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))

    name = f"bench_hooks_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(on("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**base_env(template), "DATABASE_URL": on(name)}
        manage(env, "migrate", "--noinput")
        script = (
            "from django.contrib.auth.models import User\n"
            "from chat.models import Room\n"
            f"User.objects.create_user({WRITER!r}, password={PASSWORD!r})\n"
            f"Room.objects.create(slug={MAIN_ROOM!r}, title='Benchmark')\n"
        )
        manage(env, "shell", "-c", script)
        yield {"DATABASE_URL": on(name)}
    finally:
        with psycopg.connect(on("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(
    database: Path,
    folder: Path,
    name: str,
    endpoints: int,
    posts: int,
    rate: float,
    separate: bool = False,
    database_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One server; with `separate`, WEBHOOK_WORKER=off and `manage.py runwebhooks` beside it."""
    with receiver() as (url, counter):
        extra = {**ALLOW_PRIVATE, **({"WEBHOOK_WORKER": "off"} if separate else {}), **(database_env or {})}
        env = {**base_env(database), **extra}
        for index in range(endpoints):
            manage(env, "addwebhook", MAIN_ROOM, f"{url}?n={index}", "--events", "message")
        server = ChatServer(database, folder / f"{name}.log", extra).start()
        worker = None
        if separate:
            with (folder / f"{name}-worker.log").open("ab") as log:
                worker = subprocess.Popen(
                    [sys.executable, "manage.py", "runwebhooks"], cwd=ROOT, env=env, stdout=log, stderr=log
                )
        try:
            latencies = post_latencies(server, posts, rate)
            expected = posts * endpoints
            deadline = time.monotonic() + DRAIN_TIMEOUT_SECS
            while counter.count < expected and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            server.stop()
            stop_process(worker)
        row: dict[str, Any] = {
            "run": name,
            "endpoints": endpoints,
            "posts": posts,
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "max_ms": round(max(latencies) * 1000, 2),
            "deliveries": counter.count,
        }
        if counter.count > 1 and counter.span > 0:
            row["deliveries_per_s"] = round((counter.count - 1) / counter.span, 1)
        return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="posts per second")
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--postgres", metavar="URL", help="run on fresh databases of this PostgreSQL server")
    parser.add_argument(
        "--runs",
        default=",".join(RUNS),
        help=f"comma-separated, of {', '.join(RUNS)} (default: all, in that order)",
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=1,
        help="repeat the chosen runs this many times, interleaved (a p99 of a few hundred posts "
        "swings from run to run: the comparison uses each run's median p99 over the trials)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.runs.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(RUNS))
    if unknown or not chosen:
        parser.error(f"--runs: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(RUNS)}")
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        folder = Path(tmp)
        database = BenchDatabase(folder, small_rooms=0)
        database.build()

        def one(name: str, endpoints: int, rate: float, separate: bool = False) -> dict[str, Any]:
            if not args.postgres:
                return run(database.fresh_copy(), folder, name, endpoints, args.posts, rate, separate)
            # Each run on a fresh PostgreSQL database (the SQLite file only names the settings).
            with postgres_database(args.postgres, database.fresh_copy()) as database_env:
                template = database.fresh_copy()
                return run(template, folder, name, endpoints, args.posts, rate, separate, database_env)

        plans = {
            "none": lambda: one("none", 0, args.rate),
            "in-process": lambda: one("in-process", args.endpoints, args.rate),
            "worker": lambda: one("worker", args.endpoints, args.rate, separate=True),
            # Throughput: a burst of posts as fast as acks come, then the backlog drains.
            "burst": lambda: one("burst", args.endpoints, BURST_RATE, separate=True),
            "burst-in-process": lambda: one("burst-in-process", args.endpoints, BURST_RATE),
        }
        rows = []
        for trial in range(1, max(1, args.trials) + 1):
            for name in chosen:
                rows.append({**plans[name](), "trial": trial})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| trial | run | endpoints | posts | write p50 / p95 / p99 / max (ms) | deliveries | per s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        latencies = f"{row['p50_ms']} / {row['p95_ms']} / {row['p99_ms']} / {row['max_ms']}"
        print(
            f"| {row['trial']} | {row['run']} | {row['endpoints']} | {row['posts']} | {latencies} "
            f"| {row['deliveries']} | {row.get('deliveries_per_s', '-')} |"
        )
    medians = {name: statistics.median(r["p99_ms"] for r in rows if r["run"] == name) for name in chosen}
    base = medians.get("none")
    for name in chosen:
        p99s = ", ".join(str(row["p99_ms"]) for row in rows if row["run"] == name)
        line = f"{name}: write-path p99 {p99s} ms; median {medians[name]} ms"
        if base and name in {"in-process", "worker"}:
            line += f", {medians[name] / base:.2f}x the median without endpoints"
        print(line)


if __name__ == "__main__":
    main()
