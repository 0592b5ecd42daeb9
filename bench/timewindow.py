"""The time-window query on a recorded video with many comments (`GET /rooms/<slug>/danmaku`).

A room with a one-hour recorded video gets `comments` danmaku spread over it (bulk-inserted through
the event log, the way `import_danmaku` does it). Then `clients` concurrent HTTP clients ask for
random `window_s`-second windows, as players do while playback advances, for `seconds` seconds.
Reported: queries/s, latency percentiles, comments per answer, server CPU and memory.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx

from .histogram import Histogram
from .server import ChatServer, base_env, manage

VIDEO_ROOM = "video"
VIDEO_MS = 3_600_000


def seed_script(comments: int) -> str:
    """A `manage.py shell -c` script: the video room and its comments, seeded for repeatability."""
    return f"""
import random
from chat.domain.eventlog import append_events_bulk
from chat.models import Room, RoomEvent
from danmaku.models import RoomVideo
room = Room.objects.create(slug={VIDEO_ROOM!r}, title="Recorded video")
RoomVideo.objects.create(room=room, url="https://videos.example/bench.mp4", duration_ms={VIDEO_MS})
rng = random.Random(42)
modes = ["scroll", "scroll", "scroll", "top", "bottom", "reverse"]
events = [
    RoomEvent(kind="danmaku", user_name="bench", text=f"comment {{n}}",
              data={{"mode": rng.choice(modes), "color": "#ffffff", "size": "medium"}},
              video_ms=rng.randrange({VIDEO_MS}))
    for n in range({comments})
]
append_events_bulk(room, events, batch_size=5000)
"""


def seed(database: Path, comments: int) -> float:
    """Add the video room to a database; returns the seconds it took."""
    started = time.monotonic()
    manage(base_env(database), "shell", "-c", seed_script(comments))
    return time.monotonic() - started


async def _client(
    base_url: str, window_ms: int, limit: int, deadline: float, rng: random.Random, histogram: Histogram
) -> tuple[int, int, int]:
    queries = events = errors = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while time.monotonic() < deadline:
            start = rng.randrange(0, VIDEO_MS - window_ms)
            began = time.perf_counter()
            answer = await client.get(
                f"/rooms/{VIDEO_ROOM}/danmaku",
                params={"from_ms": start, "to_ms": start + window_ms, "limit": limit},
            )
            histogram.add((time.perf_counter() - began) * 1000)
            queries += 1
            if answer.status_code != 200:
                errors += 1
                continue
            events += len(answer.json()["events"])
    return queries, events, errors


def measure(server: ChatServer, comments: int, clients: int, window_s: int, seconds: float) -> dict[str, Any]:
    histogram = Histogram()
    rng = random.Random(7)
    before = server.sample()
    began = time.monotonic()

    async def run() -> list[tuple[int, int, int]]:
        deadline = time.monotonic() + seconds
        seeds = [random.Random(rng.random()) for _ in range(clients)]
        return await asyncio.gather(
            *(_client(server.base_url, window_s * 1000, 5000, deadline, r, histogram) for r in seeds)
        )

    results = asyncio.run(run())
    elapsed = time.monotonic() - began
    after = server.sample()
    queries = sum(r[0] for r in results)
    return {
        "scenario": "window",
        "comments": comments,
        "window_s": window_s,
        "clients": clients,
        "queries": queries,
        "queries_per_s": round(queries / elapsed, 1),
        "comments_per_answer": round(sum(r[1] for r in results) / max(1, queries), 1),
        "errors": {"http_error": sum(r[2] for r in results)} if any(r[2] for r in results) else {},
        "p50_ms": histogram.percentile(0.50),
        "p99_ms": histogram.percentile(0.99),
        "max_ms": histogram.max_ms,
        "server_cpu_pct": round(100 * (after.cpu_s - before.cpu_s) / elapsed, 1),
        "server_rss_mb": round(after.rss_bytes / 2**20, 1),
    }
