"""Calls (issue 20): the time from "join" to the first remote video frame, browser to browser and
through TURN only, and what the signalling costs the server.

    .venv/bin/python -m bench.calls --trials 5 --calls 25 --seconds 10 --redis redis://127.0.0.1:6379/15

1. Two Chromium pages (Debian's package, fake camera and microphone) join a room's call, one
   after the other, `--trials` times, each time in a fresh room: the second page's time from its
   click on "Join" to the first frame of the first page's video (`data-first-frame-ms`, from
   `requestVideoFrameCallback`). Then the same with both pages relay-only (`?relay=1`) through a
   coturn from Debian's package. The pages' call frames are counted too: per call, while it is
   set up, and per second once it runs (heartbeats).
2. `--calls` calls of two participants each (raw WebSocket clients) relay ICE-candidate frames to
   each other at the per-connection sustained limit (20/s) for `--seconds`: frames relayed per
   second, and the daphne process's CPU per thousand relayed frames; in one process on the
   in-memory layer, and with `--redis` on Redis (the roster read from Redis for every frame).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from websockets.asyncio.client import connect as async_connect

from .server import PASSWORD, BenchDatabase, ChatServer, base_env, manage
from .turn import TurnServer

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
TURN_SECRET = "benchmark-turn-secret"
USERS = ("ann", "ben")
CANDIDATE = "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0"
SEND_RATE = 20.0  # frames a second per participant: the server's sustained limit per connection


def prepare(database: BenchDatabase, rooms: int) -> None:
    script = (
        "from django.contrib.auth.models import User\n"
        "from chat.models import Room\n"
        f"for name in {USERS!r}: User.objects.create_user(name, password={PASSWORD!r})\n"
        f"for n in range({rooms}): Room.objects.create(slug=f'call-{{n}}', title=f'Call {{n}}')\n"
    )
    manage(base_env(database.template), "shell", "-c", script)


def count_call_frames(page: Page, counts: dict[str, int]) -> None:
    def on_frame(payload: str | bytes, direction: str) -> None:
        try:
            kind = json.loads(payload).get("type", "")
        except (ValueError, AttributeError):
            return
        if str(kind).startswith("call.") or (kind == "ack" and direction == "in"):
            counts[direction] = counts.get(direction, 0) + 1

    page.on(
        "websocket",
        lambda ws: (
            ws.on("framesent", lambda payload: on_frame(payload, "out")),
            ws.on("framereceived", lambda payload: on_frame(payload, "in")),
        ),
    )


def join(page: Page) -> None:
    page.get_by_test_id("join-call").click()
    page.get_by_test_id("leave-call").wait_for(state="visible", timeout=20_000)


def first_frames(server: ChatServer, trials: int, relay: bool, first_room: int) -> dict[str, Any]:
    """Join-to-first-remote-frame times (ms) of `trials` calls, and the call frames they took."""
    query = "?relay=1" if relay else ""
    times: list[int] = []
    setup_frames: list[int] = []
    steady: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for trial in range(trials):
                slug = f"call-{first_room + trial}"
                pages = []
                counts: dict[str, int] = {}
                logs: list[str] = []
                for user in USERS:
                    context = browser.new_context(base_url=server.base_url)
                    session = server.login(user, PASSWORD).split("=", 1)[1]
                    context.add_cookies([{"name": "sessionid", "value": session, "url": server.base_url}])
                    page = context.new_page()
                    page.on("console", lambda message, u=user, seen=logs: seen.append(f"{u}: {message.text}"))
                    count_call_frames(page, counts)
                    page.goto(f"/rooms/{slug}/call{query}")
                    page.locator('[data-testid="connection-state"][data-state="live"]').wait_for()
                    pages.append(page)
                join(pages[0])
                join(pages[1])
                tile = pages[1].locator('[data-testid="call-tile"][data-self="false"][data-first-frame-ms]')
                try:
                    tile.wait_for(timeout=30_000)
                except Exception:
                    print(f"trial {trial}: no remote frame; the pages' console: {logs}", file=sys.stderr)
                    for page in pages:
                        tiles = page.locator('[data-testid="call-tiles"]').inner_html()[:2000]
                        print(f"tiles: {tiles}", file=sys.stderr)
                    raise
                times.append(int(tile.get_attribute("data-first-frame-ms") or 0))
                pages[0].wait_for_timeout(2_000)  # the last candidates
                setup_frames.append(sum(counts.values()))
                before = sum(counts.values())
                pages[0].wait_for_timeout(10_000)
                steady.append((sum(counts.values()) - before) / 10.0)
                for page in pages:
                    page.context.close()
        finally:
            browser.close()
    return {
        "relay": relay,
        "first_frame_ms": times,
        "median_ms": statistics.median(times),
        "max_ms": max(times),
        "frames_per_setup": statistics.median(setup_frames),
        "steady_frames_per_s": statistics.median(steady),
    }


async def participant(url: str, cookie: str, origin: str) -> Any:
    ws = await async_connect(url, additional_headers={"Cookie": cookie, "Origin": origin}, max_size=2**20)
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello", hello
    await ws.send(json.dumps({"type": "call.join", "audio": True, "video": True, "nonce": "join"}))
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("nonce") == "join":
            if frame["type"] != "ack":
                raise RuntimeError(f"join refused: {frame}")
            return ws, frame["id"]


async def relay_load(server: ChatServer, calls: int, seconds: float) -> dict[str, Any]:
    """`calls` two-person calls exchanging candidates at SEND_RATE each: relayed frames/s, CPU."""
    url = server.base_url.replace("http", "ws")
    cookies = [server.login(user, PASSWORD) for user in USERS]
    pairs = []
    for n in range(calls):
        room = f"{url}/ws/rooms/call-{n}/"
        pairs.append([await participant(room, cookie, server.base_url) for cookie in cookies])
    received = 0
    refused = 0

    async def reader(ws: Any, stop: float) -> None:
        nonlocal received, refused
        while time.monotonic() < stop:
            try:
                frame = json.loads(
                    await asyncio.wait_for(ws.recv(), timeout=max(0.01, stop - time.monotonic()))
                )
            except TimeoutError:
                return
            if frame["type"] == "call.signal":
                received += 1
            elif frame["type"] == "error":
                refused += 1

    async def sender(ws: Any, to: str, stop: float) -> None:
        frame = json.dumps({"type": "call.signal", "kind": "candidate", "to": to, "candidate": CANDIDATE})
        next_at = time.monotonic()
        while time.monotonic() < stop:
            await ws.send(frame)
            next_at += 1 / SEND_RATE
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    before = server.sample()
    started = time.monotonic()
    stop = started + seconds
    tasks = []
    for (ws_a, id_a), (ws_b, id_b) in pairs:
        tasks += [
            sender(ws_a, id_b, stop),
            sender(ws_b, id_a, stop),
            reader(ws_a, stop + 1),
            reader(ws_b, stop + 1),
        ]
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    after = server.sample()
    for pair in pairs:
        for ws, _ in pair:
            await ws.close()
    cpu = after.cpu_s - before.cpu_s
    return {
        "calls": calls,
        "relayed_per_s": round(received / seconds),
        "per_call_per_s": round(received / seconds / calls, 1),
        "refused": refused,
        "cpu_percent": round(100 * cpu / elapsed),
        "cpu_ms_per_1000_frames": round(1000 * cpu / max(1, received) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--calls", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--redis", help="also measure the relay load with REDIS_URL=this (roster and layer on Redis)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as folder_name:
        folder = Path(folder_name)
        database = BenchDatabase(folder, small_rooms=0)
        database.build()
        prepare(database, max(options.calls, 2 * options.trials))
        turn = TurnServer(folder, TURN_SECRET).start()
        env = {"CHAT_TURN_URLS": turn.url, "CHAT_TURN_SECRET": TURN_SECRET}
        server = ChatServer(database.fresh_copy(), folder / "daphne.log", env).start()
        try:
            local = first_frames(server, options.trials, relay=False, first_room=0)
            print(json.dumps({"browser_to_browser": local}))
            relayed = first_frames(server, options.trials, relay=True, first_room=options.trials)
            print(json.dumps({"through_turn": relayed}))
        finally:
            server.stop()
            turn.stop()
        layers = {"in_memory": {}}
        if options.redis:
            layers["redis"] = {"REDIS_URL": options.redis, "REDIS_PREFIX": f"bench-calls-{time.time_ns()}"}
        for layer, layer_env in layers.items():
            server = ChatServer(database.fresh_copy(), folder / f"daphne-{layer}.log", layer_env).start()
            try:
                load = asyncio.run(relay_load(server, options.calls, options.seconds))
                print(json.dumps({"relay_load": {"layer": layer, **load}}))
            finally:
                server.stop()
            text = server.log.read_text(errors="replace")
            if "Traceback" in text:  # reported whole: the log goes with the temporary folder
                start = text.index("Traceback")
                print(json.dumps({"server_traceback": text[start : start + 3000]}))


if __name__ == "__main__":
    main()
