"""A big Bilibili file imported through the moderator's upload (`POST /rooms/<slug>/mod/import`,
the real import path: parsing, checks, staged chunks, the final copy into the log) while
another room's writer posts over HTTP.

The file is generated (seeded): `comments` comments over a one-hour video, of every mode the
import takes (a tenth positioned, mode 7 payloads with a motion; some with `/n` line breaks;
some in the subtitle pool). Reported: how long the upload took (the answer comes once the
comments are in the log), comments per second, and the other room's post latencies during
it (p50, p99, max), with the server's CPU and memory.
"""

from __future__ import annotations

import json
import random
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from .histogram import Histogram
from .server import MAIN_ROOM, PASSWORD, WRITER, ChatServer, base_env, manage

IMPORT_ROOM = "imports"
VIDEO_MS = 3_600_000
# The other room's writer: a post every this many seconds, one at a time.
POST_INTERVAL_S = 0.02


def seed(env: dict[str, str]) -> None:
    """The room the file goes into: a one-hour recorded video, owned by the benchmark's writer."""
    script = f"""
from django.contrib.auth.models import User
from chat.models import Room
from danmaku.models import RoomVideo
room = Room.objects.create(slug={IMPORT_ROOM!r}, title="Import", owner=User.objects.get(username={WRITER!r}))
RoomVideo.objects.create(room=room, url="https://videos.example/bench.mp4", duration_ms={VIDEO_MS})
"""
    manage(env, "shell", "-c", script)


def bilibili_file(path: Path, comments: int, seed_value: int = 17) -> Path:
    """A Bilibili XML file of `comments` comments, as the description above says."""
    rng = random.Random(seed_value)
    modes = [1] * 14 + [5, 5, 4, 6] + [7, 7]  # a tenth positioned
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?><i><chatid>1</chatid>\n')
        for n in range(comments):
            seconds = rng.uniform(0, VIDEO_MS / 1000 - 60)
            mode = rng.choice(modes)
            pool = 1 if rng.random() < 0.02 else 0
            colour = rng.choice((16777215, 16711680, 65280, 255))
            if mode == 7:
                x, y = round(rng.random(), 3), round(rng.random(), 3)
                payload = [
                    x,
                    y,
                    "1-0.3",
                    4.5,
                    f"drawing {n}/nline two",
                    0,
                    0,
                    0.5,
                    0.5,
                    800,
                    200,
                    "true",
                    "",
                    1,
                ]
                text = json.dumps(payload, ensure_ascii=False)
            else:
                text = f"comment {n}" + ("/nsecond line" if n % 20 == 0 else "")
            text = text.replace("&", "&amp;").replace("<", "&lt;")
            out.write(f'<d p="{seconds:.3f},{mode},25,{colour},1700000000,{pool},{n:08x},{n}">{text}</d>\n')
        out.write("</i>\n")
    return path


def _signed_in(server: ChatServer) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=600)
    client.get("/accounts/login/")
    answer = client.post(
        "/accounts/login/",
        data={"username": WRITER, "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        headers={"Referer": server.base_url + "/accounts/login/"},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login failed: {answer.status_code}")
    client.headers.update(
        {
            "X-CSRFToken": client.cookies["csrftoken"],
            "Origin": server.base_url,
            "Referer": server.base_url + "/",
        }
    )
    return client


def measure(server: ChatServer, source: Path, comments: int) -> dict[str, Any]:
    histogram = Histogram()
    errors: list[str] = []
    done = threading.Event()

    def post_elsewhere() -> None:
        with closing(_signed_in(server)) as writer:
            n = 0
            while not done.is_set():
                began = time.perf_counter()
                answer = writer.post(f"/rooms/{MAIN_ROOM}/messages", json={"text": f"meanwhile {n}"})
                histogram.add((time.perf_counter() - began) * 1000)
                if answer.status_code != 200:
                    errors.append(f"{answer.status_code} {answer.text[:100]}")
                n += 1
                time.sleep(POST_INTERVAL_S)

    poster = threading.Thread(target=post_elsewhere)
    with closing(_signed_in(server)) as uploader:
        before = server.sample()
        poster.start()
        time.sleep(1)  # the other room's writer is going before the upload starts
        began = time.monotonic()
        with source.open("rb") as upload:
            answer = uploader.post(f"/rooms/{IMPORT_ROOM}/mod/import", files={"file": ("big.xml", upload)})
        took = time.monotonic() - began
        after = server.sample()
    time.sleep(0.5)
    done.set()
    poster.join()
    if answer.status_code != 200:
        raise RuntimeError(f"the import was refused: {answer.status_code} {answer.text[:300]}")
    report = answer.json()
    return {
        "scenario": "import",
        "comments": comments,
        "file_mb": round(source.stat().st_size / 2**20, 1),
        "imported": report["imported"],
        "skipped": report.get("skipped", {}),
        "import_s": round(took, 2),
        "comments_per_s": round(report["imported"] / took),
        "other_posts": histogram.total,
        "other_p50_ms": histogram.percentile(0.50),
        "other_p99_ms": histogram.percentile(0.99),
        "other_max_ms": histogram.max_ms,
        "errors": {"other room's posts refused": len(errors)} if errors else {},
        "error_samples": errors[:3],
        "server_cpu_pct": round(100 * (after.cpu_s - before.cpu_s) / took, 1),
        "server_rss_mb": round(after.rss_bytes / 2**20, 1),
    }


def run(
    database: Path, folder: Path, log: Path, comments: int, extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Seed the import room, generate the file, start a server and measure one upload."""
    seed({**base_env(database), **(extra_env or {})})
    source = bilibili_file(folder / f"import-{comments}.xml", comments)
    server = ChatServer(database, log, extra_env).start()
    try:
        row = measure(server, source, comments)
        problems = server.log_problems()
    finally:
        server.stop()
        source.unlink(missing_ok=True)
    return {**row, "log_problems": problems[:5], "log_problem_count": len(problems)}
