"""Other sites in a real Chromium against a real daphne (docs/PROTOCOL.md "Other sites"): a page
on another origin runs the real DPlayer from the npm registry, reads the room's comments and
posts one with an API token; another page reads a private room's SSE with a ticket and opens
the WebSocket; a page from an origin that is not listed is refused on every path."""

from __future__ import annotations

import functools
import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from bench.media import local_http_server, media_server

from .browsing import LIVE_MS, Contexts
from .conftest import DaphneServer, create_rooms, manage, running_server
from .npm_packages import npm_file

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DPLAYER_SPEC = "dplayer@~1.27.0"  # from the npm registry at test time (npm_packages.py)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>another site</title></head>
<body><div id="player" style="width: 640px; height: 360px"></div>
<script src="/DPlayer.min.js"></script></body></html>
"""


def install_dplayer() -> Path:
    """DPlayer's browser build."""
    return npm_file(DPLAYER_SPEC, "dplayer", "dist/DPlayer.min.js")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """Serve `folder` on a port of its own: another origin than the chat server's."""
    with local_http_server(functools.partial(QuietHandler, directory=str(folder))) as base:
        yield base


@dataclass
class World:
    server: DaphneServer
    player_site: str  # the room's embedding site
    reader_site: str  # in CORS_ALLOWED_ORIGINS
    stranger_site: str  # listed nowhere
    video_url: str
    player_token: str  # playerbot's: post and read in the embedded room
    reader_token: str  # alice's: read

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.base_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )

    def history(self, slug: str) -> list[dict[str, Any]]:
        with self.api(self.reader_token) as client:
            answer = client.get(f"/rooms/{slug}/history")
            answer.raise_for_status()
            events: list[dict[str, Any]] = answer.json()["events"]
            return events


EMBEDDED = "embedded"
BACKSTAGE = "backstage"


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def world(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("other-site")
    shutil.copy(install_dplayer(), folder / "DPlayer.min.js")
    (folder / "index.html").write_text(PAGE)
    log_dir = tmp_path_factory.mktemp("cross-origin-logs")
    with (
        static_site(folder) as player_site,
        static_site(folder) as reader_site,
        static_site(folder) as stranger_site,
        media_server(120) as video_url,
    ):
        env = {**e2e_env, "CORS_ALLOWED_ORIGINS": reader_site}
        create_rooms(
            env,
            {
                EMBEDDED: ["--owner", "alice", "--video-url", video_url, "--duration-ms", "120000"],
                BACKSTAGE: ["--owner", "alice"],
            },
        )
        script = (
            "from django.contrib.auth import get_user_model\n"
            "from chat.models import Room\n"
            "get_user_model().objects.create_user('playerbot')\n"
            f"Room.objects.filter(slug={EMBEDDED!r}).update(embed_origin={player_site!r})\n"
            f"Room.objects.filter(slug={BACKSTAGE!r}).update(private=True)\n"
        )
        manage(env, "shell", "-c", script)
        player_token = last_line(
            manage(env, "createtoken", "playerbot", "--scopes", "read,post", "--room", EMBEDDED, "--bot")
        )
        reader_token = last_line(manage(env, "createtoken", "alice", "--scopes", "read,post"))
        with running_server(env, log_dir) as server:
            yield World(
                server, player_site, reader_site, stranger_site, video_url, player_token, reader_token
            )


def open_site(contexts: Contexts, origin: str) -> Page:
    context: BrowserContext = contexts.new(origin)
    page = context.new_page()
    page.goto("/index.html")
    return page


def post_comment(world: World, text: str, video_ms: int) -> None:
    body = {"type": "danmaku", "text": text, "mode": "top", "color": "#00ff00", "video_ms": video_ms}
    with world.api(world.player_token) as client:
        client.post(f"/rooms/{EMBEDDED}/messages", json=body).raise_for_status()


def test_dplayer_on_another_site_reads_the_comments_and_posts_with_a_token(
    world: World, contexts: Contexts
) -> None:
    first, second = f"first {uuid.uuid4().hex[:6]}", f"second {uuid.uuid4().hex[:6]}"
    post_comment(world, first, 1_000)
    post_comment(world, second, 2_500)
    page = open_site(contexts, world.player_site)
    page.evaluate(
        """([api, room, token, video]) => {
            window.dp = new DPlayer({
                container: document.getElementById("player"),
                video: {url: video},
                danmaku: {id: room, api: api, token: token},
            });
        }""",
        [world.server.base_url + "/dplayer/", EMBEDDED, world.player_token, world.video_url],
    )
    page.wait_for_function(
        "(texts) => texts.every((t) => (window.dp.danmaku.dan || []).some((d) => d.text === t))",
        arg=[first, second],
        timeout=LIVE_MS,
    )
    loaded = page.evaluate("() => window.dp.danmaku.dan.map((d) => [d.time, d.type, d.text])")
    assert [1, 1, first] in loaded  # DPlayer type 1: top
    assert [2.5, 1, second] in loaded
    # Posting through DPlayer's own code: its JSON body carries the token in its `token` field.
    mine = f"from the player {uuid.uuid4().hex[:6]}"
    page.evaluate(
        """(text) => new Promise((resolve, reject) => {
            window.dp.danmaku.send({text: text, color: "#ff0000", type: "top"}, resolve);
            setTimeout(() => reject(new Error("DPlayer did not post")), 5000);
        })""",
        mine,
    )
    (posted,) = [event for event in world.history(EMBEDDED) if event["text"] == mine]
    assert posted["user"] == {"id": posted["user"]["id"], "name": "playerbot", "bot": True}
    assert (posted["color"], posted["mode"]) == ("#ff0000", "top")
    # The site's own room page shows the bot's badge beside its name.
    room_page = contexts.new(world.server.base_url).new_page()
    room_page.goto(f"/rooms/{EMBEDDED}/")
    item = room_page.locator(".msg", has_text=mine)
    expect(item.locator(".bot-badge")).to_have_text("bot")
    expect(room_page.locator(".msg", has_text=first).locator(".bot-badge")).to_have_text("bot")


def test_another_site_reads_a_private_rooms_sse_with_a_ticket_and_opens_the_websocket(
    world: World, contexts: Contexts
) -> None:
    secret = f"secret {uuid.uuid4().hex[:6]}"
    with world.api(world.reader_token) as client:
        client.post(f"/rooms/{BACKSTAGE}/messages", json={"text": secret}).raise_for_status()
        read_ticket = client.post(f"/rooms/{BACKSTAGE}/tickets").json()["ticket"]
        post_ticket = client.post(f"/rooms/{BACKSTAGE}/tickets", json={"scopes": ["read", "post"]}).json()
    page = open_site(contexts, world.reader_site)
    url = f"{world.server.base_url}/rooms/{BACKSTAGE}/events?after=0&ticket={read_ticket}"
    page.evaluate(
        """(url) => {
            window.got = [];
            window.source = new EventSource(url);
            window.source.addEventListener("hello", (e) => window.got.push(["hello", JSON.parse(e.data)]));
            window.source.onmessage = (e) => window.got.push(["message", JSON.parse(e.data)]);
        }""",
        url,
    )
    page.wait_for_function("(t) => window.got.some(([k, e]) => k === 'message' && e.text === t)", arg=secret)
    hello = page.evaluate("() => window.got.find(([k]) => k === 'hello')[1]")
    assert hello["me"]["name"] == "alice"
    live = f"live {uuid.uuid4().hex[:6]}"
    ws_url = f"{world.server.ws_url}/ws/rooms/{BACKSTAGE}/?ticket={post_ticket['ticket']}"
    answer = page.evaluate(
        """([url, text]) => new Promise((resolve, reject) => {
            const socket = new WebSocket(url);
            socket.onmessage = (e) => {
                const frame = JSON.parse(e.data);
                if (frame.type === "hello") socket.send(JSON.stringify({type: "message", text, nonce: "p1"}));
                if (frame.type === "ack" || frame.type === "error") { socket.close(); resolve(frame); }
            };
            socket.onclose = (e) => reject(new Error("closed " + e.code));
        })""",
        [ws_url, live],
    )
    assert answer["type"] == "ack"
    page.wait_for_function("(t) => window.got.some(([k, e]) => k === 'message' && e.text === t)", arg=live)


def test_a_site_not_listed_is_refused_on_every_path(world: World, contexts: Contexts) -> None:
    attempt = f"stranger {uuid.uuid4().hex[:6]}"
    page = open_site(contexts, world.stranger_site)
    base, ws = world.server.base_url, world.server.ws_url
    results = page.evaluate(
        """async ([base, ws, room, token, text]) => {
            const fetched = async (url, init) => {
                try { await fetch(url, init); return "read"; } catch (e) { return "refused"; }
            };
            const json = {"Content-Type": "application/json"};
            const results = {
                history: await fetched(`${base}/rooms/${room}/history`),
                window: await fetched(`${base}/rooms/${room}/danmaku`),
                xml: await fetched(`${base}/rooms/${room}/danmaku.xml`),
                poll: await fetched(`${base}/rooms/${room}/poll?timeout=1`),
                dplayer_read: await fetched(`${base}/dplayer/v3/?id=${room}&max=10`),
                dplayer_post: await fetched(`${base}/dplayer/v3/`, {method: "POST", headers: json,
                    body: JSON.stringify({id: room, time: 1, text, type: 0, color: 16777215, token})}),
                post: await fetched(`${base}/rooms/${room}/messages`, {method: "POST",
                    headers: {...json, Authorization: `Bearer ${token}`}, body: JSON.stringify({text})}),
            };
            results.sse = await new Promise((resolve) => {
                const source = new EventSource(`${base}/rooms/${room}/events`);
                source.addEventListener("hello", () => { source.close(); resolve("read"); });
                source.onerror = () => { source.close(); resolve("refused"); };
            });
            results.websocket = await new Promise((resolve) => {
                const socket = new WebSocket(`${ws}/ws/rooms/${room}/`);
                socket.onopen = () => { socket.close(); resolve("read"); };
                socket.onerror = () => resolve("refused");
            });
            return results;
        }""",
        [base, ws, EMBEDDED, world.player_token, attempt],
    )
    assert results == dict.fromkeys(results, "refused")
    assert len(results) == 9
    assert attempt not in json.dumps(world.history(EMBEDDED))
