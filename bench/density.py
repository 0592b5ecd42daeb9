"""The density timeline on a recorded video with many comments (`GET /rooms/<slug>/danmaku/density`).

The same room as the time-window scenario (bench/timewindow.py: a one-hour video, `comments`
danmaku spread over it). `clients` concurrent HTTP clients ask for the seek bar's curve
(`buckets` buckets) for `seconds` seconds. Nothing is cached: every answer counts afresh, as in a
live room where a comment arrives between any two requests.
Reported: queries/s, latency percentiles, server CPU and memory.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from .histogram import Histogram
from .server import ChatServer
from .timewindow import VIDEO_ROOM


async def _client(base_url: str, buckets: int, deadline: float, histogram: Histogram) -> tuple[int, int]:
    queries = errors = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            answer = await client.get(f"/rooms/{VIDEO_ROOM}/danmaku/density", params={"buckets": buckets})
            histogram.add((time.perf_counter() - began) * 1000)
            queries += 1
            if answer.status_code != 200 or len(answer.json()["counts"]) != buckets:
                errors += 1
    return queries, errors


def measure(server: ChatServer, comments: int, clients: int, buckets: int, seconds: float) -> dict[str, Any]:
    histogram = Histogram()
    before = server.sample()
    began = time.monotonic()

    async def run() -> list[tuple[int, int]]:
        deadline = time.monotonic() + seconds
        return await asyncio.gather(
            *(_client(server.base_url, buckets, deadline, histogram) for _ in range(clients))
        )

    results = asyncio.run(run())
    elapsed = time.monotonic() - began
    after = server.sample()
    queries = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return {
        "scenario": "density",
        "comments": comments,
        "buckets": buckets,
        "clients": clients,
        "queries": queries,
        "queries_per_s": round(queries / elapsed, 1),
        "errors": {"http_error": errors} if errors else {},
        "p50_ms": histogram.percentile(0.50),
        "p99_ms": histogram.percentile(0.99),
        "max_ms": histogram.max_ms,
        "server_cpu_pct": round(100 * (after.cpu_s - before.cpu_s) / elapsed, 1),
        "server_rss_mb": round(after.rss_bytes / 2**20, 1),
    }
