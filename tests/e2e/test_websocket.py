"""A real daphne process driven by a real WebSocket client library (`websockets`)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .conftest import DaphneServer, cookie_header, login

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


class Peer:
    """A WebSocket client of one room, keeping its cursor like a real client does."""

    def __init__(
        self,
        server: DaphneServer,
        user: str | None,
        after: int | None = None,
        room: str = "demo",
        epoch: str | None = None,
    ):
        query = "" if after is None else f"?after={after}"
        if epoch is not None:
            query += f"&epoch={epoch}"
        headers = {"Origin": server.base_url}
        if user is not None:
            headers["Cookie"] = cookie_header(login(server.base_url, user))
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(f"{server.ws_url}/ws/rooms/{room}/{query}", additional_headers=headers, open_timeout=10)
        )
        self.backlog: list[dict[str, Any]] = []
        self.hello = self.next("hello")

    def next(self, frame_type: str, timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if frame["type"] == frame_type:
                return frame  # type: ignore[no-any-return]
            if frame["type"] == "events":
                self.backlog.extend(frame["events"])

    def events(self, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        while len(self.backlog) < count:
            self.backlog.extend(self.next("events", timeout)["events"])
        taken, self.backlog = self.backlog[:count], self.backlog[count:]
        return taken

    def post(self, text: str, nonce: str = "n") -> dict[str, Any]:
        return self.send({"type": "message", "text": text}, nonce)

    def send(self, frame: dict[str, Any], nonce: str = "n") -> dict[str, Any]:
        """Send a write frame; its ack or error."""
        self.ws.send(json.dumps({**frame, "nonce": nonce}))
        deadline = time.monotonic() + 5
        while True:
            frame = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if frame["type"] in {"ack", "error"} and frame["nonce"] == nonce:
                return frame  # type: ignore[no-any-return]
            if frame["type"] == "events":
                self.backlog.extend(frame["events"])

    def close(self) -> None:
        self._stack.close()


def test_post_receive_disconnect_resume(server: DaphneServer) -> None:
    alice = Peer(server, "alice")
    bob = Peer(server, "bob")
    start = alice.hello["last_seq"]

    acks = [alice.post(f"first {n}", nonce=f"a{n}") for n in range(3)]
    assert [a["type"] for a in acks] == ["ack"] * 3
    assert [a["seq"] for a in acks] == [start + 1, start + 2, start + 3]
    seen = bob.events(3)
    assert [e["text"] for e in seen] == ["first 0", "first 1", "first 2"]
    assert seen[0]["user"]["name"] == "alice"
    last_seen = seen[-1]["seq"]
    bob.close()

    for n in range(5):
        alice.post(f"while away {n}", nonce=f"b{n}")

    bob = Peer(server, "bob", after=last_seen)
    missed = bob.events(5)
    assert [e["seq"] for e in missed] == list(range(last_seen + 1, last_seen + 6))
    assert [e["text"] for e in missed] == [f"while away {n}" for n in range(5)]
    alice.post("live again", nonce="c")
    (live,) = bob.events(1)
    assert live["seq"] == last_seen + 6
    with pytest.raises(TimeoutError):
        bob.next("events", timeout=0.5)  # nothing twice
    alice.close()
    bob.close()


def test_backlog_of_long_messages_arrives_in_frames_daphne_can_send(server: DaphneServer) -> None:
    """A backlog page of 500 long messages is far over the 64 KiB message limit daphne applies
    to what it sends as well as what it receives: the server splits it into several frames."""
    alice = Peer(server, "alice")
    start = alice.hello["last_seq"]
    text = "长" * 490  # about 1,500 bytes of UTF-8
    for n in range(150):
        assert alice.post(f"{n} {text}", nonce=str(n))["type"] == "ack"
    late = Peer(server, "bob", after=start)
    caught_up = late.events(150, timeout=10)
    assert [e["seq"] for e in caught_up] == list(range(start + 1, start + 151))
    alice.close()
    late.close()


def test_history_endpoint_pages_back(server: DaphneServer) -> None:
    alice = Peer(server, "alice")
    for n in range(7):
        alice.post(f"history {n}", nonce=str(n))
    latest = httpx.get(f"{server.base_url}/rooms/demo/history", params={"limit": 3}).json()
    assert [e["text"] for e in latest["events"]] == ["history 4", "history 5", "history 6"]
    assert latest["has_more"] is True
    older = httpx.get(
        f"{server.base_url}/rooms/demo/history", params={"limit": 3, "before": latest["events"][0]["seq"]}
    ).json()
    assert [e["text"] for e in older["events"]] == ["history 1", "history 2", "history 3"]
    bad = httpx.get(f"{server.base_url}/rooms/demo/history", params={"limit": 500})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    missing = httpx.get(f"{server.base_url}/rooms/nope/history")
    assert missing.status_code == 404
    assert missing.json()["code"] == "room_not_found"
    alice.close()


def test_oversized_frame_is_closed_with_1009_and_others_carry_on(server: DaphneServer) -> None:
    victim = Peer(server, "alice")
    bystander = Peer(server, "bob")
    victim.ws.send(json.dumps({"type": "message", "text": "x" * 200_000}))
    with pytest.raises(ConnectionClosed) as info:
        victim.next("events", timeout=5)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1009
    assert bystander.post("still fine")["type"] == "ack"
    bystander.close()


def test_malformed_frames_get_errors_over_a_real_socket(server: DaphneServer) -> None:
    peer = Peer(server, "carol")
    peer.ws.send(b"\xff\xfe binary")
    assert peer.next("error")["code"] == "invalid"
    peer.ws.send("{not json")
    assert peer.next("error")["code"] == "invalid"
    peer.ws.send(json.dumps({"type": "teleport"}))
    assert peer.next("error")["code"] == "unknown_type"
    assert peer.post("")["code"] == "empty"
    assert peer.post("y" * 501)["code"] == "too_long"
    assert peer.post("ok after all that")["type"] == "ack"
    peer.close()


def test_guest_gets_login_required(server: DaphneServer) -> None:
    guest = Peer(server, None)
    assert guest.hello["me"] is None
    answer = guest.post("let me in")
    assert answer["type"] == "error"
    assert answer["code"] == "login_required"
    guest.close()


def test_unknown_room_closes_with_4404(server: DaphneServer) -> None:
    url = f"{server.ws_url}/ws/rooms/no-such-room/"
    with (
        connect(url, additional_headers={"Origin": server.base_url}) as ws,
        pytest.raises(ConnectionClosed) as info,
    ):
        ws.recv(timeout=5)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4404


def test_cross_site_origin_is_refused(server: DaphneServer) -> None:
    url = f"{server.ws_url}/ws/rooms/demo/"
    with (
        pytest.raises(InvalidStatus) as info,
        connect(url, additional_headers={"Origin": "https://evil.example"}),
    ):
        pass
    assert info.value.response.status_code == 403


def test_a_room_stream_that_cannot_start_closes_4500(start_server) -> None:  # type: ignore[no-untyped-def]
    """Redis unreachable: the handshake succeeds, the stream cannot start, the close says so."""
    server = start_server(REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens on port 9
    url = f"{server.ws_url}/ws/rooms/demo/"
    with (
        connect(url, additional_headers={"Origin": server.base_url}, open_timeout=10) as ws,
        pytest.raises(ConnectionClosed) as info,
    ):
        ws.recv(timeout=30)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4500


def test_a_client_that_stops_reading_is_resynced_and_others_are_unaffected(server: DaphneServer) -> None:
    """A client that stops reading fills its socket; the server stops writing live to it at a
    bounded backlog, keeps serving everyone else at once, and when the client reads again it
    catches up from the log: every seq once, in order."""
    import socket as socket_module

    sock = socket_module.socket(socket_module.AF_INET, socket_module.SOCK_STREAM)
    sock.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_RCVBUF, 4096)  # a tiny window
    sock.connect(("127.0.0.1", server.port))
    with connect(
        f"{server.ws_url}/ws/rooms/demo/",
        sock=sock,
        additional_headers={"Origin": server.base_url},
        max_queue=1,  # the client library stops reading the socket when one message waits
        open_timeout=10,
    ) as slow:
        hello = json.loads(slow.recv(timeout=5))
        start = hello["last_seq"]
        alice = Peer(server, "alice")
        fast = Peer(server, "bob", after=start)
        text = "😀" * 480  # 1,920 bytes of UTF-8
        count = 3000  # about 6 MB of frames: past what the kernel buffers and the 512 KiB bound
        worst = 0.0
        for n in range(count):
            assert alice.post(f"{n} {text}", nonce=str(n))["type"] == "ack"
            if n % 100 == 99:
                began = time.monotonic()
                batch = fast.events(100, timeout=10)
                assert batch[-1]["seq"] == start + n + 1
                worst = max(worst, time.monotonic() - began)
        assert worst < 2.0, f"a reader waited {worst:.1f} s behind a client that does not read"
        seqs: list[int] = []
        deadline = time.monotonic() + 60
        while len(seqs) < count and time.monotonic() < deadline:
            frame = json.loads(slow.recv(timeout=30))
            if frame["type"] == "events":
                seqs.extend(e["seq"] for e in frame["events"])
        assert seqs == list(range(start + 1, start + count + 1))
        alice.close()
        fast.close()
    # The server stopped writing to it at its bound and caught it up later (not a buffer of MBs).
    assert "client fell behind" in server.log()
