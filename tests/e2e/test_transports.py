"""The room page over each transport in a real Chromium against a real daphne: WebSocket, SSE
and long-poll forced by ?transport=, the automatic fallback when WebSocket (then SSE) fails,
Chromium's own EventSource against the SSE endpoint, and resuming across a restart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from .browsing import (
    LIVE_MS,
    SLOW_MS,
    Contexts,
    go_away,
    message_line,
    send_message,
    texts_with_prefix,
)
from .conftest import DEMO_ROOM, DaphneServer, login, post_as, restarted, unique_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOM = DEMO_ROOM
# What the connection label's tooltip names when live over each (its text is "Connected").
LABELS = {"ws": "WebSocket", "sse": "SSE", "poll": "polling"}
# Consecutive failed opens after which the client tries the next transport
# (static/js/client/realtime.js).
FALLBACK_AFTER_FAILURES = 2
# A quiet room answers a long-poll after 25 s (static/js/client/longpoll.js POLL_TIMEOUT_S), plus slack.
POLL_ANSWER_MS = 35_000
# The server counts who is in a room once a second (chat/realtime/hub.py PRESENCE_TICK_SECS).
PRESENCE_TICK_S = 1.0
# The client first tries to move back up from a fallback transport at most this long after going live.
UPGRADE_PROBE_MAX_MS = 60_000

# A browser (or a proxy) where WebSocket cannot even be constructed.
BLOCK_WEBSOCKET = """
window.__webSocketAttempts = 0;
window.WebSocket = function WebSocket() {
  window.__webSocketAttempts += 1;
  throw new DOMException("WebSocket is blocked by the test", "SecurityError");
};
"""
# An EventSource whose every stream fails at once, the way a refused or buffered stream does.
BREAK_EVENTSOURCE = """
window.__eventSourceAttempts = 0;
window.EventSource = class EventSource extends EventTarget {
  constructor(url) {
    super();
    window.__eventSourceAttempts += 1;
    this.url = url;
    this.readyState = 0;
    setTimeout(() => {
      this.readyState = 2;
      this.dispatchEvent(new Event("error"));
    }, 0);
  }
  close() {
    this.readyState = 2;
  }
};
"""


class Traffic:
    """What a page asked the server for: WebSocket URLs and (method, path, query) of requests."""

    def __init__(self, page: Page) -> None:
        self.websockets: list[str] = []
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        page.on("websocket", lambda socket: self.websockets.append(socket.url))
        page.on("request", self._record)

    def _record(self, request: Any) -> None:
        url = urlsplit(request.url)
        self.requests.append((request.method, url.path, parse_qs(url.query)))

    def count(self, method: str, endpoint: str) -> int:
        path = f"/rooms/{ROOM}/{endpoint}"
        return sum(1 for verb, where, _query in self.requests if verb == method and where == path)


def user_context(contexts: Contexts, server: DaphneServer, username: str) -> BrowserContext:
    """A browser context signed in as `username`: the session cookie of a real login, and no
    CSRF cookie, so posting over HTTP relies on the room page providing the token."""
    session = login(server.base_url, username)["sessionid"]
    return contexts.new(server.base_url, cookies={"sessionid": session})


def open_room(
    context: BrowserContext, transport: str | None, label: str | None = None
) -> tuple[Page, Traffic]:
    """Open the room (forcing `transport` if given) and wait until it shows `label`."""
    page = context.new_page()
    traffic = Traffic(page)
    page.goto(f"/rooms/{ROOM}/" + (f"?transport={transport}" if transport else ""))
    expect_state(page, label or LABELS[str(transport)])
    return page, traffic


def expect_state(page: Page, transport: str, timeout: float = SLOW_MS) -> None:
    """Live over `transport`: the label reads "Connected", its tooltip says over what."""
    label = page.get_by_test_id("connection-state")
    expect(label).to_have_attribute("title", f"Connected over {transport}", timeout=timeout)
    expect(label).to_have_text("Connected", timeout=timeout)


def chat_both_ways(alice: Page, bob: Page) -> None:
    """Alice types a message and presses Enter, bob sees it; bob answers, alice sees it."""
    hello = f"{unique_prefix()} hello from alice"
    send_message(alice, hello)
    expect(message_line(bob, hello).locator(".msg-author")).to_have_text("alice", timeout=LIVE_MS)
    reply = f"{unique_prefix()} bob answers"
    send_message(bob, reply)
    expect(message_line(alice, reply).locator(".msg-author")).to_have_text("bob", timeout=LIVE_MS)
    for page in (alice, bob):
        shown = page.locator(".msg .msg-text").all_text_contents()
        assert shown.count(hello) == 1, shown
        assert shown.count(reply) == 1, shown
        assert shown.index(hello) < shown.index(reply)


def shown_seqs(page: Page) -> list[int]:
    return [int(seq) for seq in page.locator(".msg").evaluate_all("items => items.map(i => i.dataset.seq)")]


def room_last_seq(server: DaphneServer) -> int:
    answer = httpx.get(f"{server.base_url}/rooms/{ROOM}/history?limit=1", timeout=10)
    answer.raise_for_status()
    return int(answer.json()["last_seq"])


@pytest.mark.parametrize("transport", ["ws", "sse", "poll"])
def test_forced_transport_chats_both_ways(transport: str, contexts: Contexts, server: DaphneServer) -> None:
    alice, alice_traffic = open_room(user_context(contexts, server, "alice"), transport)
    bob, bob_traffic = open_room(user_context(contexts, server, "bob"), transport)

    chat_both_ways(alice, bob)
    # Presence is pushed over WebSocket and SSE; long-poll brings it with each answer, and a
    # quiet room answers a poll only when it times out. Alice's poll may have been answered
    # before the server counted bob (a presence tick): once it has, a message brings it.
    presence_ms = POLL_ANSWER_MS if transport == "poll" else LIVE_MS
    if transport == "poll":
        time.sleep(PRESENCE_TICK_S * 1.5)
        chat_both_ways(alice, bob)
    for page, other in ((alice, "bob"), (bob, "alice")):
        expect(page.get_by_test_id("online-count")).to_have_text("2", timeout=presence_ms)
        expect(page.get_by_test_id("online-users")).to_contain_text(other)

    # A refused post shows the server's reason, whichever way it travelled.
    box = alice.get_by_test_id("message-input")
    box.fill(unique_prefix() + "x" * 600)
    box.press("Enter")
    expect(alice.get_by_test_id("send-error")).to_contain_text("too long", timeout=LIVE_MS)

    # The forced transport, and only it, carried the traffic.
    for traffic in (alice_traffic, bob_traffic):
        if transport == "ws":
            assert traffic.websockets
            assert traffic.count("GET", "events") == traffic.count("GET", "poll") == 0
            assert traffic.count("POST", "messages") == 0
        else:
            assert traffic.websockets == []
            assert traffic.count("POST", "messages") >= 1
            used, unused = ("events", "poll") if transport == "sse" else ("poll", "events")
            assert traffic.count("GET", used) >= 1
            assert traffic.count("GET", unused) == 0
    # Every message sent (one too long), each once: never resent.
    sent = 3 if transport == "poll" else 2
    assert alice_traffic.count("POST", "messages") in (0, sent)


def test_falls_back_to_sse_when_websocket_is_refused(contexts: Contexts, server: DaphneServer) -> None:
    refused: list[str] = []

    def refuse(socket: WebSocketRoute) -> None:
        refused.append(socket.url)
        socket.close(code=1011, reason="refused by the test")

    context = user_context(contexts, server, "alice")
    context.route_web_socket(lambda url: "/ws/rooms/" in url, refuse)
    alice, traffic = open_room(context, None, LABELS["sse"])
    assert len(refused) == FALLBACK_AFTER_FAILURES, refused
    assert traffic.count("GET", "events") >= 1
    assert traffic.count("GET", "poll") == 0

    bob, _ = open_room(user_context(contexts, server, "bob"), None, LABELS["ws"])
    chat_both_ways(alice, bob)
    expect(alice.get_by_test_id("online-count")).to_have_text("2", timeout=LIVE_MS)
    expect_state(alice, LABELS["sse"], timeout=0)


def test_falls_back_to_polling_when_sse_fails_too(contexts: Contexts, server: DaphneServer) -> None:
    context = user_context(contexts, server, "alice")
    context.add_init_script(BLOCK_WEBSOCKET)
    context.add_init_script(BREAK_EVENTSOURCE)
    alice, traffic = open_room(context, None, LABELS["poll"])
    assert alice.evaluate("window.__webSocketAttempts") == FALLBACK_AFTER_FAILURES
    assert alice.evaluate("window.__eventSourceAttempts") == FALLBACK_AFTER_FAILURES
    assert traffic.count("GET", "poll") >= 1

    # The other side on SSE: a message crosses transports both ways.
    bob, _ = open_room(user_context(contexts, server, "bob"), "sse")
    chat_both_ways(alice, bob)
    expect_state(alice, LABELS["poll"], timeout=0)


def test_moves_back_up_to_websocket_once_it_works(contexts: Contexts, server: DaphneServer) -> None:
    """Fallen back to SSE because WebSocket failed, the page tries WebSocket again later."""
    refused: list[str] = []

    def refuse_at_first(socket: WebSocketRoute) -> None:
        if len(refused) < FALLBACK_AFTER_FAILURES:
            refused.append(socket.url)
            socket.close(code=1011, reason="refused by the test")
        else:
            socket.connect_to_server()

    context = user_context(contexts, server, "alice")
    context.route_web_socket(lambda url: "/ws/rooms/" in url, refuse_at_first)
    page = context.new_page()
    page.clock.install()
    page.goto(f"/rooms/{ROOM}/")
    expect_state(page, LABELS["sse"])
    before = f"{unique_prefix()} while on SSE"
    send_message(page, before)
    expect(message_line(page, before)).to_have_count(1, timeout=LIVE_MS)

    page.clock.fast_forward(UPGRADE_PROBE_MAX_MS)
    expect_state(page, LABELS["ws"], timeout=LIVE_MS)
    after = f"{unique_prefix()} back on WebSocket"
    post_as(server, "carol", [after])
    expect(message_line(page, after)).to_have_count(1, timeout=LIVE_MS)
    assert texts_with_prefix(page, "test-").count(before) == 1
    seqs = shown_seqs(page)
    assert seqs == sorted(set(seqs))


def collect_event_source(page: Page, query: str) -> None:
    """Open an EventSource on the room's stream; what it receives goes to window.__received."""
    page.evaluate(
        """(query) => {
            window.__source?.close();
            window.__received = [];
            const source = new EventSource(`/rooms/demo/events${query}`);
            for (const name of ["hello", "message", "presence", "reset"]) {
                source.addEventListener(name, (event) => {
                    window.__received.push({ name, id: event.lastEventId, data: JSON.parse(event.data) });
                });
            }
            source.addEventListener("error", () => window.__received.push({ name: "error" }));
            window.__source = source;
        }""",
        query,
    )


def received(page: Page, name: str | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = page.evaluate("window.__received")
    return [event for event in events if name is None or event["name"] == name]


def wait_for_received(page: Page, name: str, count: int) -> None:
    page.wait_for_function(
        "([name, count]) => window.__received.filter((event) => event.name === name).length >= count",
        arg=[name, count],
        timeout=LIVE_MS,
    )


def test_chromium_event_source_reads_the_room_stream(contexts: Contexts, server: DaphneServer) -> None:
    page = contexts.new(server.base_url).new_page()
    page.goto("/accounts/login/")
    start = room_last_seq(server)

    collect_event_source(page, f"?after={start}")
    wait_for_received(page, "hello", 1)
    prefix = unique_prefix()
    texts = [f"{prefix} over SSE #{index}" for index in range(3)]
    post_as(server, "carol", texts)
    wait_for_received(page, "message", 3)

    events = received(page)
    assert events[0]["name"] == "hello"
    assert events[0]["id"] == ""
    hello = events[0]["data"]
    assert hello["type"] == "hello"
    assert hello["room"]["slug"] == ROOM
    assert hello["last_seq"] == start
    assert hello["me"] is None  # a guest
    assert {"count", "users"} <= set(hello["presence"])
    messages = received(page, "message")
    assert [event["id"] for event in messages] == [str(start + n) for n in (1, 2, 3)]
    assert [event["data"]["seq"] for event in messages] == [start + n for n in (1, 2, 3)]
    assert [event["data"]["text"] for event in messages] == texts
    assert {event["data"]["kind"] for event in messages} == {"message"}
    assert {event["data"]["user"]["name"] for event in messages} == {"carol"}
    for event in received(page, "presence"):
        assert event["data"]["type"] == "presence"
        assert isinstance(event["data"]["count"], int)
    assert received(page, "error") == []

    # Resuming from a cursor replays exactly what came after it, then stays live.
    collect_event_source(page, f"?after={start + 1}")
    wait_for_received(page, "message", 2)
    assert received(page)[0]["name"] == "hello"
    assert [event["data"]["text"] for event in received(page, "message")] == texts[1:]
    later = f"{prefix} live after the resume"
    post_as(server, "carol", [later])
    wait_for_received(page, "message", 3)
    assert [event["data"]["text"] for event in received(page, "message")] == [*texts[1:], later]
    assert [event["id"] for event in received(page, "message")] == [str(start + n) for n in (2, 3, 4)]

    # A cursor ahead of the room: hello, then a reset naming where to continue from.
    collect_event_source(page, f"?after={start + 1000}")
    wait_for_received(page, "reset", 1)
    names = [event["name"] for event in received(page)]
    assert names[:2] == ["hello", "reset"]
    reset = received(page, "reset")[0]["data"]
    epoch = received(page, "hello")[0]["data"]["epoch"]
    assert reset == {"type": "reset", "last_seq": start + 4, "reason": "cursor_ahead", "epoch": epoch}
    page.evaluate("window.__source.close()")


def cursors_sent(traffic: Traffic, transport: str, since: int = 0) -> list[int]:
    """The `after` of each stream opened (SSE) or poll made (long-poll), from request `since` on."""
    path = f"/rooms/{ROOM}/{'events' if transport == 'sse' else 'poll'}"
    return [
        int(query["after"][0])
        for method, where, query in traffic.requests[since:]
        if method == "GET" and where == path and "after" in query
    ]


@pytest.mark.parametrize("transport", ["sse", "poll"])
def test_resumes_after_a_restart(
    transport: str, contexts: Contexts, server: DaphneServer, tmp_path: Path
) -> None:
    before = f"{unique_prefix()} before the restart"
    post_as(server, "carol", [before])
    context = contexts.new(server.base_url)
    page, traffic = open_room(context, transport)
    expect(message_line(page, before)).to_have_count(1)
    cursor = max(shown_seqs(page))

    go_away(server, context, page)
    with restarted(server, tmp_path) as replacement:
        prefix = unique_prefix()
        missed = [f"{prefix} posted while the page was away #{index}" for index in range(3)]
        post_as(replacement, "carol", missed)
        expect(page.get_by_test_id("connection-state")).to_have_text("Offline")
        reconnects_from = len(traffic.requests)
        context.set_offline(False)
        expect_state(page, LABELS[transport], timeout=LIVE_MS)
        expect(message_line(page, missed[-1])).to_have_count(1, timeout=LIVE_MS)

        live = f"{prefix} after the reconnect"
        post_as(replacement, "carol", [live])
        expect(message_line(page, live)).to_have_count(1, timeout=LIVE_MS)
        assert texts_with_prefix(page, prefix) == [*missed, live]
        shown = texts_with_prefix(page, "test-")
        assert shown.count(before) == 1
        assert shown.index(before) < shown.index(missed[0])
        seqs = shown_seqs(page)
        assert seqs == sorted(set(seqs))

    # It resumed from its cursor, not from "now" (which would have lost the missed messages).
    assert cursors_sent(traffic, transport, since=reconnects_from)[0] == cursor
    assert traffic.websockets == []


@pytest.mark.parametrize("transport", ["sse", "poll"])
def test_reset_reloads_history_when_too_far_behind(
    transport: str, contexts: Contexts, server: DaphneServer, tmp_path: Path
) -> None:
    before = f"{unique_prefix()} before the reset"
    post_as(server, "carol", [before])
    context = contexts.new(server.base_url)
    page, _ = open_room(context, transport)
    expect(message_line(page, before)).to_have_count(1)

    go_away(server, context, page)
    # More missed events than the server replays: it answers the resume with a reset.
    with restarted(server, tmp_path, CHAT_BACKLOG_MAX="3") as replacement:
        prefix = unique_prefix()
        missed = [f"{prefix} missed #{index}" for index in range(5)]
        post_as(replacement, "carol", missed)
        context.set_offline(False)
        expect_state(page, LABELS[transport], timeout=LIVE_MS)
        expect(message_line(page, missed[-1])).to_have_count(1, timeout=LIVE_MS)
        assert texts_with_prefix(page, prefix) == missed
        expect(message_line(page, before)).to_have_count(1)

        live = f"{prefix} live after the reset"
        post_as(replacement, "carol", [live])
        expect(message_line(page, live)).to_have_count(1, timeout=LIVE_MS)
        assert texts_with_prefix(page, prefix) == [*missed, live]


def test_unknown_transport_parameter_falls_back_to_the_default(
    contexts: Contexts, server: DaphneServer
) -> None:
    page, _ = open_room(contexts.new(server.base_url), "constructor", LABELS["ws"])
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-transport", "WebSocket")
