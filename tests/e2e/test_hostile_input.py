"""Hostile input against a real daphne process, generated with Hypothesis.

Random and malformed JSON, binary frames, frames of several MB, invalid UTF-8, huge numbers, deep
nesting and wrong types in every field over the WebSocket; absurd query parameters on SSE,
long-poll, history, the time window, DPlayer and the XML export; hostile bodies on the HTTP write
paths (messages, DPlayer, viewer settings) and the XML import. The server must never answer 500
or hang, never crash a consumer, never disturb another connection, and every refusal carries a
code that docs/PROTOCOL.md documents (its error and close code tables are read from the file).

Examples are derandomized and the example database is off, so a run is the same every time.
"""

from __future__ import annotations

import json
import operator
import re
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .conftest import ROOT, DaphneServer, cookie_header, login, manage

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

FRAME_MAX_BYTES = 64 * 1024  # docs/PROTOCOL.md: larger frames are closed with 1009
DURATION_MS = 600_000  # the video room's recorded video
SEQ_MAX = 2**62

# Every property runs a fixed, bounded set of examples: the same on every machine and every run.
HOSTILE = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    # No shrinking: against a live server it can take minutes; the failing example is reported as is.
    phases=[Phase.explicit, Phase.generate],
)
FEW = settings(HOSTILE, max_examples=8)
SOME = settings(HOSTILE, max_examples=40)


# The contract, read from the document that states it.

PROTOCOL = (ROOT / "docs" / "PROTOCOL.md").read_text()


def _table(heading: str) -> list[list[str]]:
    """The rows (without the header) of the first table after a heading of docs/PROTOCOL.md."""
    section = PROTOCOL.split(f"\n{heading}\n", 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("#"):
            break
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]


ERROR_STATUS = {
    code: int(row[1]) for row in _table("## Error codes") for code in re.findall(r"`([a-z_]+)`", row[0])
}
CLOSE_CODES = {int(row[0]) for row in _table("### Close codes")}


def test_the_documented_tables_are_read() -> None:
    assert ERROR_STATUS["invalid"] == 400
    assert ERROR_STATUS["too_long"] == 413
    assert ERROR_STATUS["invalid_video_ms"] == 400
    assert {1007, 1009, 4400, 4404} <= CLOSE_CODES


# The server, its rooms, and the clients that attack and watch them.


@dataclass
class Site:
    server: DaphneServer
    live: str  # a room without a video: comments have no position
    video: str  # a room with a recorded video of DURATION_MS: comments need one
    cookies: dict[str, str]  # alice's session; she owns both rooms
    log_seen: int = 0

    def client(self) -> httpx.Client:
        """An API client signed in as alice, with her CSRF token, from this site's pages."""
        headers = {
            "Origin": self.server.base_url,
            "Accept": "application/json",
            "X-CSRFToken": self.cookies["csrftoken"],
        }
        return httpx.Client(base_url=self.server.base_url, cookies=self.cookies, headers=headers, timeout=10)

    def check_log(self) -> None:
        """The server is alive and logged no traceback and no 5xx since the last check."""
        assert self.server.process is not None
        assert self.server.process.poll() is None, "daphne exited"
        log = self.server.log()
        fresh, self.log_seen = log[self.log_seen :], len(log)
        assert "Traceback" not in fresh, fresh[-6000:]
        assert "Exception inside application" not in fresh, fresh[-6000:]
        assert not re.search(r'" 5\d\d \d', fresh), re.findall(r'.*" 5\d\d \d.*', fresh)


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One daphne for the module: Hypothesis runs many examples against the same process."""
    server = DaphneServer(e2e_env, tmp_path_factory.mktemp("hostile") / "daphne.log").start()
    try:
        live, video = (f"hostile-{uuid.uuid4().hex[:8]}" for _ in range(2))
        video_options = f"'--video-url', 'https://videos.example/film.mp4', '--duration-ms', '{DURATION_MS}'"
        script = (
            "from django.core.management import call_command\n"
            f"call_command('createroom', {live!r}, '--owner', 'alice')\n"
            f"call_command('createroom', {video!r}, '--owner', 'alice', {video_options})\n"
        )
        manage(e2e_env, "shell", "-c", script)  # one start of Django for both rooms
        yield Site(server, live, video, login(server.base_url, "alice"))
    finally:
        server.stop()


def _close_code(closed: ConnectionClosed) -> int | None:
    """The code of the close frame the server sent; None when it dropped the connection."""
    return None if closed.rcvd is None else closed.rcvd.code


@pytest.fixture(autouse=True)
def log_window(request: pytest.FixtureRequest) -> None:
    """Each test answers for what the server logged while it ran, not for an earlier test."""
    if "site" in request.fixturenames:
        site: Site = request.getfixturevalue("site")
        site.log_seen = len(site.server.log())


class Socket:
    """A WebSocket client of a room; the room's stream is kept apart from the answers to it."""

    def __init__(self, site: Site, room: str, *, signed_in: bool = False, query: str = "") -> None:
        headers = {"Origin": site.server.base_url}
        if signed_in:
            headers["Cookie"] = cookie_header(site.cookies)
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(
                f"{site.server.ws_url}/ws/rooms/{room}/{query}",
                additional_headers=headers,
                open_timeout=10,
                close_timeout=2,
            )
        )
        self.stream: list[dict[str, Any]] = []
        self.hello = self.greeting()

    def greeting(self) -> dict[str, Any] | int | None:
        """The first frame; or the code the server closed with before it (no such room)."""
        try:
            return self.frame()
        except ConnectionClosed as closed:
            return _close_code(closed)

    def frame(self, timeout: float = 10) -> dict[str, Any]:
        value = json.loads(self.ws.recv(timeout=timeout))
        assert isinstance(value, dict), value
        return value

    def answer(self, timeout: float = 10) -> dict[str, Any]:
        """The next frame that answers this client: ack, error or pong."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.frame(max(0.01, deadline - time.monotonic()))
            if frame["type"] not in ("events", "presence", "reset"):
                return frame
            self.stream.append(frame)

    def ping(self) -> None:
        self.ws.send(json.dumps({"type": "ping"}))
        assert self.answer() == {"type": "pong"}

    def close(self) -> None:
        self._stack.close()


@contextmanager
def bystander(site: Site, room: str) -> Iterator[Socket]:
    """A guest watching `room` during an attack: afterwards it still gets a normal message posted
    after the barrage, and it never saw a frame that answered the attacker."""
    watcher = Socket(site, room)
    try:
        assert isinstance(watcher.hello, dict), watcher.hello
        assert watcher.hello["type"] == "hello", watcher.hello
        yield watcher
        text = f"after the barrage {uuid.uuid4().hex}"
        with site.client() as client:
            posted = client.post(f"/rooms/{room}/messages", json={"text": text})
        assert posted.status_code == 200, posted.text
        seq = posted.json()["seq"]
        deadline = time.monotonic() + 10
        while True:
            frame = watcher.frame(max(0.01, deadline - time.monotonic()))
            assert frame["type"] in ("events", "presence"), frame
            if any(e["seq"] == seq and e["text"] == text for e in frame.get("events", [])):
                break
    finally:
        watcher.close()


def assert_refusal(response: httpx.Response, codes: Collection[str], *, key: str = "code") -> dict[str, Any]:
    """A JSON refusal with one of `codes`, documented, with its documented HTTP status."""
    assert response.headers.get("content-type", "").startswith("application/json"), response.text[:300]
    body = response.json()
    assert isinstance(body, dict), body
    code = body.get(key)
    assert code in codes, (response.status_code, body)
    assert code in ERROR_STATUS, f"{code} is not in the error code table of docs/PROTOCOL.md"
    assert response.status_code == ERROR_STATUS[code], (response.status_code, body)
    return body


# Hostile values.

TEXT = st.characters(codec="utf-8")  # anything UTF-8 carries: no lone surrogates
HUGE_INTS = st.builds(lambda k, sign: sign * (10**k + 7), st.integers(16, 1500), st.sampled_from([1, -1]))
NUMBERS = st.one_of(st.integers(), HUGE_INTS, st.floats())  # NaN and infinities too: Python's JSON has them
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(TEXT, max_size=20))
JSON = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(TEXT, max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KNOWN_TYPES = ("message", "danmaku", "ping")
MODES = ("scroll", "top", "bottom", "reverse")
SIZES = ("small", "medium", "large")
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# Removed or trimmed by the text cleaning (docs/PROTOCOL.md); only high surrogates, since a high
# and a low one next to each other in JSON make one real character.
BLANKS = " \t\n\r\x0b\x0c\x00\x01\x1b\x1f\x7f\x85\x9f\xa0\u2028\u2029\u3000\ud800\udbff"
LONG_CHARS = ("a", "\u957f", "\U0001f600", "\u00e9")  # each one character before and after NFC
MISSING = object()
VALID_NONCES = st.one_of(st.none(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(TEXT, max_size=100))


def _lone_surrogate(text: str, at: int, point: int) -> str:
    at = min(at, len(text))
    return text[:at] + chr(point) + text[at:]


BAD_NONCES = st.one_of(
    st.text(TEXT, min_size=101, max_size=300),
    # Valid JSON ("\ud800") that UTF-8 cannot carry: it crashed the connection when echoed back.
    st.builds(_lone_surrogate, st.text(TEXT, max_size=30), st.integers(0, 30), st.integers(0xD800, 0xDFFF)),
    st.floats(),
    st.booleans(),
    st.lists(LEAVES, max_size=3),
    st.dictionaries(st.text(TEXT, max_size=5), LEAVES, max_size=3),
    st.integers(min_value=2**53),
    st.integers(max_value=-(2**53)),
    HUGE_INTS,
)


def extras(*taken: str) -> st.SearchStrategy[dict[str, Any]]:
    """Fields nobody asked for, of any type."""
    return st.dictionaries(st.text(TEXT, max_size=8).filter(lambda key: key not in taken), JSON, max_size=3)


def not_an_object(raw: str | bytes) -> bool:
    try:
        return not isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return True


@dataclass(frozen=True)
class Hostile:
    """A frame (or request body) and the refusals it may get."""

    payload: str | bytes
    codes: frozenset[str]  # the WebSocket's answer
    http_codes: frozenset[str]  # POST /rooms/<slug>/messages' answer; empty: not sent there
    nonce: object = None  # echoed by the refusal
    expect: dict[str, Any] = field(default_factory=dict)  # more fields the refusal must have


INVALID = frozenset({"invalid"})


def _frame(frame: dict[str, Any], nonce: object) -> str:
    if nonce is not None:
        frame["nonce"] = nonce
    return json.dumps(frame)


VALID_FRAMES = [
    json.dumps({"type": "message", "text": "hello", "nonce": "n-1"}),
    json.dumps({"type": "danmaku", "text": "hi", "mode": "top", "color": "#ff0000", "video_ms": 1000}),
    json.dumps({"type": "ping"}),
]

NOT_OBJECTS: st.SearchStrategy[Hostile] = (
    st.one_of(
        st.text(TEXT, max_size=200),
        JSON.map(json.dumps),
        st.builds(lambda raw, cut: raw[:cut], st.sampled_from(VALID_FRAMES), st.integers(0, 80)),
        st.integers(1000, 32000).map(lambda n: "[" * n + "]" * n),  # nesting no parser should follow
        # A number Python's JSON refuses (over 4300 digits); any other reader's is no safe nonce either.
        st.integers(4301, 30000).map(lambda n: '{"type": "ping", "nonce": ' + "7" * n + "}"),
    )
    .filter(not_an_object)
    .map(lambda raw: Hostile(raw, INVALID, INVALID))
)

BINARY: st.SearchStrategy[Hostile] = st.binary(max_size=2000).map(
    lambda raw: Hostile(raw, INVALID, INVALID if not_an_object(raw) else frozenset())
)

# Deep objects: refused as malformed, or (with a parser that follows them) an object without type.
DEEP_OBJECTS: st.SearchStrategy[Hostile] = st.integers(1000, 9000).map(
    lambda n: Hostile('{"a": ' * n + "1" + "}" * n, frozenset({"invalid", "unknown_type"}), INVALID)
)


@st.composite
def unknown_types(draw: st.DrawFn) -> Hostile:
    frame = draw(extras("type", "nonce"))
    nonce = draw(VALID_NONCES)
    if "text" in frame or draw(st.booleans()):
        frame["type"] = draw(JSON.filter(lambda value: value not in KNOWN_TYPES))
        http = frozenset({"unknown_type"})
    else:  # no type at all: over HTTP a message, which this frame has no text for
        http = INVALID
    return Hostile(_frame(frame, nonce), frozenset({"unknown_type"}), http, nonce)


@st.composite
def bad_nonces(draw: st.DrawFn) -> Hostile:
    frame = draw(extras("type", "nonce"))
    frame["type"] = draw(st.one_of(st.sampled_from(KNOWN_TYPES), JSON))
    frame["nonce"] = draw(BAD_NONCES)
    return Hostile(json.dumps(frame), INVALID, INVALID)


def bad_texts(limit: int) -> st.SearchStrategy[tuple[object, str]]:
    """A text value and its refusal: wrong type, empty after cleaning, or over `limit`."""
    return st.one_of(
        JSON.filter(lambda value: not isinstance(value, str)).map(lambda value: (value, "invalid")),
        st.just((MISSING, "invalid")),
        st.text(st.sampled_from(BLANKS), max_size=60).map(lambda text: (text, "empty")),
        st.sampled_from(LONG_CHARS).flatmap(
            # A frame stays under 64 KiB: the JSON escape of each character counts.
            lambda char: st.integers(limit + 1, 60_000 // (len(json.dumps(char)) - 2)).map(
                lambda n: (char * n, "too_long")
            )
        ),
    )


def _text_expectation(code: str, limit: int) -> dict[str, Any]:
    return {"limit": limit} if code == "too_long" else {}


@st.composite
def bad_messages(draw: st.DrawFn) -> Hostile:
    frame = draw(extras("type", "nonce", "text"))
    frame["type"] = "message"
    text, code = draw(bad_texts(500))
    if text is not MISSING:
        frame["text"] = text
    nonce = draw(VALID_NONCES)
    codes = frozenset({code})
    return Hostile(_frame(frame, nonce), codes, codes, nonce, _text_expectation(code, 500))


def _not(allowed: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is not None and not allowed(value)


BAD_MODES = st.one_of(JSON, st.sampled_from(["Scroll", "scroll ", "", "left", "0"])).filter(
    _not(lambda value: value in MODES)
)
BAD_SIZES = st.one_of(JSON, st.sampled_from(["Large", "huge", "", " small", "25"])).filter(
    _not(lambda value: value in SIZES)
)
BAD_COLORS = st.one_of(
    JSON, st.text(st.sampled_from("#0123456789abcdefABCDEFgxX \n"), max_size=9), st.just("#fff")
).filter(_not(lambda value: isinstance(value, str) and COLOR.fullmatch(value) is not None))
# A recorded video of DURATION_MS: positions are numbers from 0 to it, rounded to whole ms.
BAD_POSITIONS = st.one_of(
    st.booleans(),
    st.text(TEXT, max_size=10),
    st.lists(LEAVES, max_size=2),
    st.dictionaries(st.text(TEXT, max_size=4), LEAVES, max_size=2),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.integers(max_value=-1),
    st.floats(max_value=-1),
    st.integers(min_value=DURATION_MS + 1),
    st.floats(min_value=DURATION_MS + 1),
    HUGE_INTS,  # past 1e308: math.isfinite() of one overflowed into a server error
    st.just(None),  # required on a recorded video
)


@st.composite
def bad_danmaku(draw: st.DrawFn, recorded: bool) -> Hostile:
    """A comment with exactly one bad field; the refusal names it."""
    frame: dict[str, Any] = {
        "type": "danmaku",
        "text": draw(st.sampled_from(["ok", "nice!", "\u597d"])),
        "mode": draw(st.sampled_from(MODES)),
        "color": draw(st.sampled_from(["#ffffff", "#A0b1C2"])),
        "size": draw(st.sampled_from(SIZES)),
    }
    if recorded:
        frame["video_ms"] = draw(st.integers(0, DURATION_MS))
    frame.update(draw(extras(*frame, "nonce", "video_ms")))
    bad = draw(st.sampled_from(["text", "mode", "color", "size", "video_ms"]))
    expect: dict[str, Any] = {"field": bad}
    if bad == "text":
        text, code = draw(bad_texts(100))
        expect = _text_expectation(code, 100)
        if text is MISSING:
            del frame["text"]
        else:
            frame["text"] = text
    elif bad == "video_ms":
        code = "invalid_video_ms"
        frame["video_ms"] = draw(BAD_POSITIONS if recorded else JSON.filter(lambda value: value is not None))
    else:
        code = f"invalid_{bad}"
        frame[bad] = draw({"mode": BAD_MODES, "color": BAD_COLORS, "size": BAD_SIZES}[bad])
    nonce = draw(VALID_NONCES)
    codes = frozenset({code})
    return Hostile(_frame(frame, nonce), codes, codes, nonce, expect)


def frame_size(case: Hostile) -> int:
    return len(case.payload if isinstance(case.payload, bytes) else case.payload.encode())


def hostile_frames(recorded: bool) -> st.SearchStrategy[Hostile]:
    """Frames up to 64 KiB (larger ones close the connection: see the 1009 test)."""
    return st.one_of(
        NOT_OBJECTS,
        BINARY,
        DEEP_OBJECTS,
        unknown_types(),
        bad_nonces(),
        bad_messages(),
        bad_danmaku(recorded),
    ).filter(lambda case: frame_size(case) <= FRAME_MAX_BYTES)


def check_error_frame(answer: dict[str, Any], case: Hostile) -> None:
    assert answer["type"] == "error", (answer, case)
    assert answer["code"] in case.codes, (answer, case)
    assert answer["code"] in ERROR_STATUS, f"{answer['code']} is not documented"
    assert answer["nonce"] == case.nonce, (answer, case)
    assert isinstance(answer["message"], str)
    assert answer["message"]
    for key, value in case.expect.items():
        assert answer.get(key) == value, (key, answer, case)


# The WebSocket.


@pytest.mark.parametrize("recorded", [False, True], ids=["live-room", "video-room"])
def test_hostile_frames_get_documented_errors_and_the_connection_lives_on(site: Site, recorded: bool) -> None:
    room = site.video if recorded else site.live
    with bystander(site, room):
        victim = Socket(site, room, signed_in=True)

        @HOSTILE
        @given(case=hostile_frames(recorded))
        def barrage(case: Hostile) -> None:
            victim.ws.send(case.payload)
            check_error_frame(victim.answer(), case)
            victim.ping()

        barrage()
        assert isinstance(victim.hello, dict), victim.hello
        assert victim.hello["me"]["name"] == "alice"
        victim.ping()
        victim.close()
    site.check_log()


def _closed_with(victim: Socket, send: Callable[[], None]) -> int | None:
    """Send, then read until the server closes; the close code it sent."""

    def until_closed() -> None:
        send()
        while True:
            victim.answer(timeout=10)

    with pytest.raises(ConnectionClosed) as closed:
        until_closed()
    return _close_code(closed.value)


def test_frames_over_64_kib_close_with_1009_without_disturbing_others(site: Site) -> None:
    with bystander(site, site.live):

        @FEW
        @given(
            size=st.one_of(
                st.integers(FRAME_MAX_BYTES + 1, 2 * FRAME_MAX_BYTES), st.integers(2**20, 6 * 2**20)
            ),
            fragment=st.one_of(st.none(), st.integers(1024, FRAME_MAX_BYTES)),
        )
        def oversized(size: int, fragment: int | None) -> None:
            victim = Socket(site, site.live, signed_in=True)
            head, tail = '{"type": "message", "text": "', '"}'
            text = head + "x" * (size - len(head) - len(tail)) + tail
            assert len(text) == size
            if fragment is None:
                code = _closed_with(victim, lambda: victim.ws.send(text))
            else:  # a message in small fragments: its total is what counts
                parts = [text[i : i + fragment] for i in range(0, len(text), fragment)]
                code = _closed_with(victim, lambda: victim.ws.send(parts))
            victim.close()
            assert code == 1009
            assert code in CLOSE_CODES

        oversized()
    site.check_log()


INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe4\xb8", b"\x80"]


def test_text_frames_that_are_not_utf8_close_with_1007(site: Site) -> None:
    with bystander(site, site.live):

        @FEW
        @given(
            before=st.sampled_from([b"", b'{"type": "ping", "x": "', b'{"type": "message", "text": "']),
            bad=st.sampled_from(INVALID_UTF8),
            after=st.sampled_from([b"", b'"}', "\u00e9\u957f".encode()]),
        )
        def not_utf8(before: bytes, bad: bytes, after: bytes) -> None:
            victim = Socket(site, site.live, signed_in=True)
            code = _closed_with(victim, lambda: victim.ws.send(before + bad + after, text=True))
            victim.close()
            assert code == 1007
            assert code in CLOSE_CODES

        not_utf8()
    site.check_log()


# Query strings. A value's verdict: True, valid (blank is absent); False, refused with `invalid`;
# None, either is defensible (leading zeros, "-0", or repeated values that disagree: which of
# them counts is not part of the contract).

ASCII_INTEGER = re.compile(r"-?[0-9]+")


def verdict(value: str, low: int, high: int) -> bool | None:
    if value == "":
        return True
    if not ASCII_INTEGER.fullmatch(value):
        return False
    digits = value.lstrip("-").lstrip("0") or "0"
    if len(digits) > 19:  # past every range here
        return False
    number = -int(digits) if value.startswith("-") else int(digits)
    if not low <= number <= high:
        return False
    return True if str(number) == value else None


def candidates(values: list[str]) -> set[str]:
    """The value a server may take from repeated ones: the last, or the last that is not blank."""
    if not values:
        return {""}
    return {values[-1], next((v for v in reversed(values) if v), "")}


RAW_JUNK = "%FF"  # a percent escape that is not UTF-8: decoded to U+FFFD, never a number
ODD_INTEGERS = [
    *("", " ", "-1", "-0", "+1", "1.0", "1e3", "0x10", "NaN", "inf", "true", "[]", "%", RAW_JUNK),
    *("\u0661\u0662", "\uff11", "\u00b2", "\x00", "1\x00", " 1", "1 ", "9" * 19, "9" * 20, "0" * 25 + "1"),
]


def int_values(low: int, high: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(low, high).map(str),
        st.integers().map(str),
        HUGE_INTS.map(str),
        st.sampled_from(ODD_INTEGERS),
        st.text(TEXT, max_size=30),
        st.text(st.sampled_from("0123456789-x"), min_size=1000, max_size=3000),  # very long
    )


@dataclass(frozen=True)
class Query:
    pairs: tuple[tuple[str, str], ...]

    def encoded(self) -> str:
        return "&".join(
            f"{quote(name, safe='')}={value if value == RAW_JUNK else quote(value, safe='')}"
            for name, value in self.pairs
        )

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


def queries(
    params: dict[str, tuple[int, int]], avoid: Callable[[str, str], bool] | None = None
) -> st.SearchStrategy[Query]:
    """Query strings over `params` (name: (low, high)), repeated names, and names nobody reads."""
    names = st.one_of(
        st.sampled_from(sorted(params)), st.sampled_from(["key", "x"]), st.text(TEXT, max_size=6)
    )
    pair = names.flatmap(
        lambda name: (
            int_values(*params[name]) if name in params else st.text(TEXT, max_size=40) | int_values(0, 1)
        ).map(lambda value: (name, value))
    )
    pairs = st.lists(pair, max_size=5)
    if avoid is not None:
        checked = avoid
        pairs = pairs.filter(lambda found: not any(checked(name, value) for name, value in found))
    return pairs.map(lambda found: Query(tuple(found))).filter(lambda query: len(query.encoded()) < 12_000)


def query_verdict(query: Query, params: dict[str, tuple[int, int]]) -> bool | None:
    verdicts: list[bool | None] = []
    for name, (low, high) in params.items():
        found = {verdict(value, low, high) for value in candidates(query.values(name))}
        verdicts.append(found.pop() if len(found) == 1 else None)
    if False in verdicts:
        return False
    return True if all(verdicts) else None


def check_answer(response: httpx.Response, expected: bool | None, codes: Collection[str] = INVALID) -> bool:
    """200 when `expected` is True, a documented refusal from `codes` when it is False, one of the
    two when it is None; never anything else. True when the answer was 200."""
    assert response.status_code < 500, response.text[:500]
    if response.status_code == 200 and expected is not False:
        return True
    assert expected is not True, (response.status_code, response.text[:300])
    assert_refusal(response, codes)
    return False


def unknown_slugs(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=60).filter(lambda slug: not slug.startswith("hostile-"))


# Django's slug converter routes these to the views; anything else there is the site's own 404 page.
DJANGO_SLUGS = unknown_slugs(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_"))
# SSE and long-poll take any slug (no "/": that is another path; no dot segments, which clients fold).
ANY_SLUGS = unknown_slugs(TEXT.filter(lambda char: char != "/")).filter(lambda slug: slug.strip(".") != "")


def _room_or_unknown(site: Site, unknown: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([site.live, site.video]), unknown)


@dataclass(frozen=True)
class Reader:
    path: str
    params: dict[str, tuple[int, int]]
    slugs: st.SearchStrategy[str]
    params_first: bool  # parameters are checked before the room is looked up

    def check_body(self, response: httpx.Response) -> None:
        body = response.json()
        assert isinstance(body["last_seq"], int), body
        assert isinstance(body["events"], list), body


READERS = {
    "history": Reader("/rooms/{}/history", {"before": (1, SEQ_MAX), "limit": (1, 200)}, DJANGO_SLUGS, False),
    "window": Reader(
        "/rooms/{}/danmaku",
        {"from_ms": (0, 2**53), "to_ms": (0, 2**53), "limit": (1, 5000)},
        DJANGO_SLUGS,
        False,
    ),
    # Only timeout 0: a valid cursor with a longer one waits that long, as it should.
    "poll": Reader("/rooms/{}/poll", {"after": (0, SEQ_MAX), "timeout": (0, 0)}, ANY_SLUGS, True),
}


def _window_order(query: Query) -> bool | None:
    """to_ms must not be less than from_ms: None when the values in play disagree."""
    outcomes = set()
    for low in candidates(query.values("from_ms")):
        for high in candidates(query.values("to_ms")):
            if verdict(low, 0, 2**53) and verdict(high, 0, 2**53):
                outcomes.add(int(high or 2**53) >= int(low or 0))
    return outcomes.pop() if len(outcomes) == 1 else None


def _long_poll_wait(name: str, value: str) -> bool:
    """A timeout of 1 to 55 s, however written (the reader would wait for it)."""
    return name == "timeout" and ASCII_INTEGER.fullmatch(value) is not None and 0 < int(value[-25:]) <= 55


@pytest.mark.parametrize("reader", sorted(READERS))
def test_absurd_query_parameters_on_the_json_readers(site: Site, reader: str) -> None:
    spec = READERS[reader]
    with bystander(site, site.live), httpx.Client(base_url=site.server.base_url, timeout=10) as client:

        @HOSTILE
        @given(room=_room_or_unknown(site, spec.slugs), query=queries(spec.params, _long_poll_wait))
        def absurd(room: str, query: Query) -> None:
            expected = query_verdict(query, spec.params)
            if reader == "window" and expected is True:
                expected = _window_order(query)
            response = client.get(f"{spec.path.format(quote(room, safe=''))}?{query.encoded()}")
            if room not in (site.live, site.video):
                if expected is True or not spec.params_first:
                    assert_refusal(response, {"room_not_found"})
                else:
                    assert_refusal(response, {"room_not_found", "invalid"})
            elif check_answer(response, expected):
                spec.check_body(response)

        absurd()
    site.check_log()


def test_absurd_query_parameters_and_last_event_id_on_sse(site: Site) -> None:
    params = {"after": (0, SEQ_MAX), "max_rate": (1, 1000)}
    # What a header can carry: visible Latin-1, no blank at either end.
    visible = st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="\x7f\x85\xa0")
    header_values = st.text(visible, min_size=1, max_size=40)
    with bystander(site, site.live), httpx.Client(base_url=site.server.base_url, timeout=10) as client:

        @HOSTILE
        @given(
            room=_room_or_unknown(site, ANY_SLUGS),
            query=queries(params),
            last_event_id=st.one_of(
                st.none(),
                header_values,
                int_values(0, SEQ_MAX).filter(lambda v: v.isascii() and v.isprintable()),
            ),
        )
        def absurd(room: str, query: Query, last_event_id: str | None) -> None:
            expected = query_verdict(query, params)
            headers: list[tuple[bytes, bytes]] = []
            if last_event_id and last_event_id.strip() == last_event_id:
                headers.append((b"Last-Event-ID", last_event_id.encode("latin-1")))
                after = verdict(last_event_id, 0, SEQ_MAX)  # it wins over ?after=
                rate = query_verdict(Query(tuple(p for p in query.pairs if p[0] == "max_rate")), params)
                expected = False if False in (after, rate) else (True if after and rate else None)
            url = f"/rooms/{quote(room, safe='')}/events?{query.encoded()}"
            with client.stream("GET", url, headers=headers) as response:
                if room not in (site.live, site.video):
                    response.read()
                    assert_refusal(
                        response, {"room_not_found"} if expected else {"room_not_found", "invalid"}
                    )
                elif response.status_code == 200:
                    assert expected is not False, query
                    assert response.headers["content-type"].startswith("text/event-stream")
                    lines = response.iter_lines()
                    while next(lines) != "event: hello":
                        pass
                    assert json.loads(next(lines).removeprefix("data: "))["type"] == "hello"
                else:
                    response.read()
                    check_answer(response, expected)

        absurd()
    site.check_log()


def test_absurd_query_parameters_on_dplayer_and_the_xml_export(site: Site) -> None:
    params = {"max": (1, 10_000)}
    with bystander(site, site.video), httpx.Client(base_url=site.server.base_url, timeout=10) as client:

        @HOSTILE
        @given(
            room=_room_or_unknown(site, st.one_of(DJANGO_SLUGS, ANY_SLUGS)),
            query=queries(params, lambda name, _value: name == "id"),
            xml=st.booleans(),
        )
        def absurd(room: str, query: Query, xml: bool) -> None:
            known = room in (site.live, site.video)
            if xml:
                if not re.fullmatch(r"[-a-zA-Z0-9_]+", room):
                    room = "no-such-room"  # other slugs never reach the view: the site's 404 page
                known = room in (site.live, site.video)
                response = client.get(f"/rooms/{room}/danmaku.xml?{query.encoded()}")
                if known:
                    assert response.status_code == 200, response.text[:300]
                    assert response.headers["content-type"].startswith("application/xml")
                    assert ElementTree.fromstring(response.content).tag == "i"
                else:
                    assert_refusal(response, {"room_not_found"})
                return
            response = client.get(f"/dplayer/v3/?id={quote(room, safe='')}&{query.encoded()}")
            assert response.status_code < 500, response.text[:300]
            if not known:  # the room is looked up first
                assert_refusal(response, {"room_not_found"}, key="error")
                return
            expected = query_verdict(query, params)
            if response.status_code == 200 and expected is not False:
                body = response.json()
                assert body["code"] == 0, body
                assert isinstance(body["data"], list), body
            else:
                assert expected is not True, response.text[:300]
                refused = assert_refusal(response, {"invalid", "room_not_found"}, key="error")
                assert refused["code"] == 1

        absurd()
    site.check_log()


def test_absurd_query_parameters_when_connecting_a_websocket(site: Site) -> None:
    params = {"after": (0, SEQ_MAX), "max_rate": (1, 1000)}
    with bystander(site, site.live):

        @SOME
        @given(
            room=st.one_of(
                st.sampled_from([site.live, site.video]),
                st.from_regex(r"[a-z0-9-]{1,50}", fullmatch=True).filter(
                    lambda s: not s.startswith("hostile-")
                ),
            ),
            query=queries(params),
        )
        def absurd(room: str, query: Query) -> None:
            expected = query_verdict(query, params)
            peer = Socket(site, room, query=f"?{query.encoded()}")
            try:
                first = peer.hello
                if not isinstance(first, dict):  # closed before the first frame: no such room
                    assert room not in (site.live, site.video)
                    assert first == 4404
                    return
                if first["type"] == "hello":
                    assert expected is not False, query
                    assert room in (site.live, site.video)
                    peer.ping()
                    return
                assert expected is not True, (first, query)
                assert first["type"] == "error", first
                assert first["code"] == "invalid", first
                code = _closed_with(peer, lambda: None)
                assert code == 4400
                assert code in CLOSE_CODES
            finally:
                peer.close()

        absurd()
    site.check_log()


def test_more_query_parameters_than_django_parses_are_refused_with_invalid(site: Site) -> None:
    """Past DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) Django refuses to parse a query string: that was
    an HTML page, and under DEBUG a 500 after seconds. The SSE and long-poll endpoints parse it."""
    django_paths = [
        f"/rooms/{site.live}/history?",
        f"/rooms/{site.video}/danmaku?",
        f"/rooms/{site.video}/danmaku.xml?",
        f"/dplayer/v3/?id={site.video}&",
    ]
    with bystander(site, site.live), httpx.Client(base_url=site.server.base_url, timeout=10) as client:

        @FEW
        # Within the 16 KiB of request line the HTTP server reads (see the test after this one).
        @given(count=st.integers(1001, 1700), name=st.sampled_from(["x", "limit", "key", "after"]))
        def crowded(count: int, name: str) -> None:
            query = "&".join([f"{name}=1"] * count)
            for path in django_paths:
                key = "error" if path.startswith("/dplayer") else "code"
                assert_refusal(client.get(path + query), INVALID, key=key)
            page = client.get(f"/rooms/{site.video}/overlay?{query}")  # a page: the site's 400 page
            assert page.status_code == 400, page.text[:300]
            assert "Bad overlay option" in page.text, page.text[:300]
            assert client.get(f"/rooms/{site.live}/poll?{query}&timeout=0").status_code == 200
            with client.stream("GET", f"/rooms/{site.live}/events?{query}") as stream:
                assert stream.status_code == 200

        crowded()
    site.check_log()


def test_request_lines_past_the_http_servers_limit_are_refused_not_served(site: Site) -> None:
    """Twisted reads at most 16 KiB of request line and headers: longer ones are refused before any
    view runs, with a bare 400 or a closed connection, quickly; the server carries on."""
    with bystander(site, site.live), httpx.Client(base_url=site.server.base_url, timeout=10) as client:
        for path in ("events", "poll", "history", "danmaku", "danmaku.xml"):
            started = time.monotonic()
            try:
                response = client.get(f"/rooms/{site.live}/{path}?after={'9' * 40_000}")
            except httpx.RemoteProtocolError:
                pass
            else:
                assert 400 <= response.status_code < 500, response.status_code
            assert time.monotonic() - started < 5
        assert client.get(f"/rooms/{site.live}/history").status_code == 200
    site.check_log()


# The HTTP write paths.


def test_hostile_bodies_on_http_posts_get_the_websockets_refusals(site: Site) -> None:
    with bystander(site, site.video), site.client() as client:

        @HOSTILE
        @given(case=hostile_frames(recorded=True))
        def barrage(case: Hostile) -> None:
            assume(case.http_codes)
            body = case.payload.encode() if isinstance(case.payload, str) else case.payload
            response = client.post(
                f"/rooms/{site.video}/messages", content=body, headers={"Content-Type": "application/json"}
            )
            refused = assert_refusal(response, case.http_codes)
            assert refused["type"] == "error"
            assert refused["nonce"] == case.nonce
            for key, value in case.expect.items():
                assert refused.get(key) == value, (key, refused, case)

        barrage()
    site.check_log()


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({"Content-Type": "text/plain"}, b'{"text": "hi"}', "invalid"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"text=hi", "invalid"),
        ({"Content-Type": "application/json"}, b"", "invalid"),
        ({"Content-Type": "application/json"}, b"x" * (FRAME_MAX_BYTES + 1), "too_long"),
        ({"Content-Type": "application/json"}, b'{"text": "' + b"y" * 6_000_000 + b'"}', "too_long"),
    ],
    ids=["text-plain", "form", "empty", "over-64-kib", "6-mb"],
)
def test_http_post_bodies_of_the_wrong_kind_or_size(
    site: Site, headers: dict[str, str], body: bytes, code: str
) -> None:
    with site.client() as client:
        for path in (f"/rooms/{site.live}/messages", "/dplayer/v3/"):
            key = "error" if "dplayer" in path else "code"
            assert_refusal(client.post(path, content=body, headers=headers), {code}, key=key)
            # Chunked, so without Content-Length: Django's own 2.5 MB ceiling was a 400 HTML page.
            chunks = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
            assert_refusal(client.post(path, content=chunks, headers=headers), {code}, key=key)
    site.check_log()


def test_http_posts_without_session_csrf_or_room(site: Site) -> None:
    with httpx.Client(base_url=site.server.base_url, timeout=10) as guest:
        guest.get(f"/rooms/{site.live}/").raise_for_status()  # sets the csrftoken cookie
        token = {"X-CSRFToken": guest.cookies["csrftoken"]}
        assert_refusal(guest.post(f"/rooms/{site.live}/messages", json={"text": "hi"}), {"csrf_failed"})
        answer = guest.post(f"/rooms/{site.live}/messages", json={"text": "hi"}, headers=token)
        assert_refusal(answer, {"login_required"})
        answer = guest.post("/dplayer/v3/", json={"id": site.live, "text": "hi"})
        assert_refusal(answer, {"login_required"}, key="error")
    with site.client() as client:
        assert_refusal(client.post("/rooms/no-such-room/messages", json={"text": "hi"}), {"room_not_found"})
        assert_refusal(client.request("PUT", "/dplayer/v3/"), {"method_not_allowed"}, key="error")
        assert_refusal(client.post(f"/rooms/{site.live}/events"), {"method_not_allowed"})
        assert_refusal(client.post(f"/rooms/{site.live}/poll"), {"method_not_allowed"})
    site.check_log()


# DPlayer's own body: {id|player, author, time, text, color, type, token}.

DPLAYER_NAMED_TYPES = ("right", "top", "bottom")


def dplayer_type_ok(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in (0, 1, 2)
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= 9:
            return int(digits) in (0, 1, 2)
        return value in DPLAYER_NAMED_TYPES
    return value is None


def dplayer_color_ok(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= 0xFFFFFF
    if isinstance(value, str):
        return re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value) is not None
    return value is None


@st.composite
def bad_dplayer_posts(draw: st.DrawFn, site: Site) -> tuple[dict[str, Any], str]:
    """A DPlayer post to the video room with exactly one bad field, and its error code."""
    body: dict[str, Any] = {
        "id": site.video,
        "author": draw(JSON),
        "time": draw(st.floats(0, DURATION_MS / 1000 - 1)),
        "text": "dplayer",
        "color": draw(st.sampled_from([0, 0xFFFFFF, "#abc", "#00FF00"])),
        "type": draw(st.sampled_from([0, 1, 2, "right", "top", "bottom", " 1 ", None])),
        "token": draw(JSON),
    }
    bad = draw(st.sampled_from(["id", "text", "color", "type", "time"]))
    if bad == "id":
        body["id"] = value = draw(st.one_of(JSON, ANY_SLUGS))
        code = "room_not_found" if isinstance(value, str) and value else "invalid"
    elif bad == "text":
        text, code = draw(bad_texts(100))
        if text is MISSING:
            del body["text"]
        else:
            body["text"] = text
    elif bad == "color":
        code = "invalid_color"
        body["color"] = draw(
            st.one_of(
                JSON, HUGE_INTS, st.integers(), st.text(st.sampled_from("#0123456789abcdefxg"), max_size=8)
            ).filter(lambda value: value is not None and not dplayer_color_ok(value))
        )
    elif bad == "type":
        code = "invalid_mode"
        body["type"] = draw(
            st.one_of(
                JSON,
                st.integers(),
                # Digits of other scripts and superscripts, which str.isdigit() accepts and int()
                # may not; and more digits than int() converts (4300).
                st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=3),
                st.builds(operator.add, st.sampled_from("123456789"), st.text("0123456789", max_size=6000)),
                st.sampled_from(
                    ["\u00b2", "\u0661", "\uff11", "9" * 5000, "left", "scroll", " top", "0x1", "-1"]
                ),
            ).filter(lambda value: not dplayer_type_ok(value))
        )
    else:
        code = "invalid_video_ms"
        body["time"] = draw(
            st.one_of(
                BAD_POSITIONS.filter(
                    lambda value: not isinstance(value, int | float) or isinstance(value, bool)
                ),
                st.sampled_from([float("nan"), float("inf"), -1, 2**41, DURATION_MS]),
                HUGE_INTS,
                st.floats(max_value=-0.001),
                st.floats(min_value=DURATION_MS / 1000 + 0.001),
            )
        )
    return body, code


def test_hostile_dplayer_posts_get_dplayer_errors_with_stable_codes(site: Site) -> None:
    with bystander(site, site.video), site.client() as client:

        @HOSTILE
        @given(case=bad_dplayer_posts(site), raw=st.one_of(st.none(), NOT_OBJECTS, BINARY))
        def barrage(case: tuple[dict[str, Any], str], raw: Hostile | None) -> None:
            if raw is None:
                body, code = json.dumps(case[0]).encode(), case[1]
            else:
                assume(raw.http_codes)
                body = raw.payload.encode() if isinstance(raw.payload, str) else raw.payload
                code = "invalid"
            response = client.post("/dplayer/v3/", content=body, headers={"Content-Type": "application/json"})
            refused = assert_refusal(response, {code}, key="error")
            assert refused["code"] == 1, refused
            assert isinstance(refused["msg"], str), refused

        barrage()
    site.check_log()


# Viewer settings: every key with values of every type.

SETTING_KEYS = (
    "show",
    "opacity",
    "speed",
    "scale",
    "area",
    "hidden_modes",
    "blocked_keywords",
    "blocked_users",
)


def test_hostile_viewer_settings_are_saved_or_refused_never_a_server_error(site: Site) -> None:
    with site.client() as client:

        @SOME
        @given(
            settings_value=st.one_of(
                JSON,
                st.dictionaries(
                    st.sampled_from(SETTING_KEYS), st.one_of(JSON, HUGE_INTS), min_size=1, max_size=3
                ),
            )
        )
        def hostile(settings_value: Any) -> None:
            response = client.put("/danmaku/settings", json={"settings": settings_value})
            if response.status_code == 200:
                assert isinstance(settings_value, dict)
                assert set(settings_value) <= set(SETTING_KEYS)
                assert set(response.json()["settings"]) == set(settings_value)
            else:
                refused = assert_refusal(response, {"invalid_settings"})
                if isinstance(settings_value, dict) and settings_value:
                    assert refused.get("field") in SETTING_KEYS or refused.get("field") in settings_value

        hostile()
        for key in ("blocked_keywords", "blocked_users"):  # PostgreSQL's jsonb cannot store a NUL
            nul = client.put("/danmaku/settings", json={"settings": {key: ["a\x00b"]}})
            assert assert_refusal(nul, {"invalid_settings"})["field"] == key
    site.check_log()


# The XML import on the moderators' API.

P_VALUES = st.one_of(
    st.text(TEXT, max_size=30),
    st.builds(
        lambda *parts: ",".join(parts),
        st.one_of(
            st.sampled_from(["1.5", "nan", "inf", "-1", "1e999", "1e300", "", "0x1"]), HUGE_INTS.map(str)
        ),
        st.one_of(st.sampled_from(["1", "4", "5", "6", "7", "8", "", "x", "\u00b2"]), HUGE_INTS.map(str)),
        st.sampled_from(["18", "25", "36", "-5", "", "99999999999999999999"]),
        st.one_of(st.sampled_from(["0", "16777215", "16777216", "-1", "", "abc"]), HUGE_INTS.map(str)),
    ),
)


def _xml_text(text: str) -> str:
    """Text as XML 1.0 can carry it (no control characters but tab and line breaks), escaped."""
    kept = "".join(c for c in text if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))
    return kept.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@st.composite
def xml_documents(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """A document and its number of comments, or None for a file that may well be refused."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.one_of(st.binary(max_size=500), st.text(TEXT, max_size=200).map(str.encode))), None
    comments = draw(st.lists(st.tuples(P_VALUES, st.text(TEXT, max_size=120)), max_size=12))
    depth = draw(st.sampled_from([0, 0, 3, 2000]))
    body = "".join(f'<d p="{_xml_text(p)}">{_xml_text(text)}</d>' for p, text in comments)
    body = "<x>" * depth + body + "</x>" * depth
    if draw(st.booleans()):
        doctype = '<!DOCTYPE i [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        return f"<?xml version='1.0'?>{doctype}<i>{body}</i>".encode(), -1
    return f'<?xml version="1.0" encoding="UTF-8"?><i><chatid>x</chatid>{body}</i>'.encode(), len(comments)


def test_hostile_xml_imports_are_reported_or_refused(site: Site) -> None:
    with bystander(site, site.video), site.client() as client:

        @SOME
        @given(document=xml_documents())
        def upload(document: tuple[bytes, int | None]) -> None:
            content, comments = document
            files = {"file": ("comments.xml", content, "application/xml")}
            response = client.post(f"/rooms/{site.video}/mod/import", files=files)
            if comments == -1:  # a DOCTYPE: refused whatever follows
                assert_refusal(response, {"invalid_xml"})
            elif response.status_code == 200 or comments is not None:
                assert response.status_code == 200, response.text[:300]
                report = response.json()
                assert all(
                    reason in ERROR_STATUS or reason in ("unsupported_mode", "code_comment", "malformed")
                    for reason in report["skipped"]
                )
                if comments is not None:
                    assert report["imported"] + sum(report["skipped"].values()) == comments, report
            else:  # random bytes: not XML, or XML in neither danmaku format
                assert_refusal(response, {"invalid_xml", "unknown_format"})

        upload()
        live = client.post(f"/rooms/{site.live}/mod/import", files={"file": ("a.xml", b"<i/>")})
        assert_refusal(live, {"no_recorded_video"})
        missing = client.post(f"/rooms/{site.video}/mod/import", data={"not_file": "x"})
        assert_refusal(missing, {"invalid"})
    with httpx.Client(base_url=site.server.base_url, timeout=10) as guest:
        refused = guest.post(
            f"/rooms/{site.video}/mod/import",
            files={"file": ("a.xml", b"<i/>")},
            headers={"Accept": "application/json"},
        )
        assert_refusal(refused, {"csrf_failed"})
    site.check_log()
