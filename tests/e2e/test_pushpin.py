"""Viewers held by the real Pushpin (Debian's package) in front of a real daphne in GRIP mode.

The test renders deploy/pushpin.conf, deploy/pushpin-routes and deploy/zurl.conf (only the
values their headers mark as replaced by this test), starts zurl with that configuration
(Debian's defaults refuse 127.*, and Pushpin does not start zurl itself there) and Pushpin on
free ports, and a daphne with GRIP_URL and GRIP_KEY. Clients reach the SSE and long-poll
endpoints through Pushpin only; posts go to daphne, which publishes each committed event.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from ..conftest import unavailable
from .conftest import (
    ROOT,
    DaphneServer,
    SignedIn,
    cookie_header,
    create_rooms,
    free_port,
    login,
    manage,
    post_frames,
    post_messages,
    unique_prefix,
    wait_until_up,
)
from .test_tokens import new_token, revoke_on_the_account_page

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PUSHPIN = Path("/usr/bin/pushpin")  # Debian's package (apt-get install -y pushpin)
ZURL = Path("/usr/bin/zurl")  # a dependency of that package
DEPLOY = ROOT / "deploy"
GRIP_KEY = "pushpin-test-key-of-32-bytes-or-more"
# "Within a second" is the requirement; generous here for a loaded test machine (as test_access).
CUT_OFF_BOUND_SECS = 3.0
# Pushpin waits message_wait (1 s, deploy/pushpin.conf) for a missing prev-id, then asks the link.
RECOVERY_BOUND_SECS = 6.0


def require_pushpin() -> None:
    if not (PUSHPIN.exists() and ZURL.exists()):
        unavailable(f"Pushpin is not installed at {PUSHPIN} (apt-get install -y pushpin)")


def render(template: Path, replacements: dict[str, str]) -> str:
    """`template` with each string replaced; a string missing from it fails the test (the
    file's header promises it is there)."""
    text = template.read_text()
    for old, new in replacements.items():
        assert old in text, f"{template.name} no longer contains {old!r}: update its header and this test"
        text = text.replace(old, new)
    return text


class Pushpin:
    """zurl and Pushpin with the deploy/ configuration, on free ports, in front of `backends`."""

    def __init__(self, backends: list[int]) -> None:
        # Unix socket paths are short (108 bytes): a directory of its own under the temp dir.
        self.folder = Path(tempfile.mkdtemp(prefix="pushpin-"))
        self.http_port = free_port()
        self.publish_port = free_port()
        self.processes: list[subprocess.Popen[bytes]] = []
        run = str(self.folder / "run")
        logs = str(self.folder / "log")
        (self.folder / "run").mkdir()
        (self.folder / "log").mkdir()
        conf = render(
            DEPLOY / "pushpin.conf",
            {
                "/var/run/pushpin": run,
                "/var/run/zurl": run,
                "/var/log/pushpin": logs,
                "http_port=7999": f"http_port={self.http_port}",
                "127.0.0.1:5560": f"127.0.0.1:{free_port()}",
                "127.0.0.1:5561": f"127.0.0.1:{self.publish_port}",
                "127.0.0.1:5562": f"127.0.0.1:{free_port()}",
                "127.0.0.1:5563": f"127.0.0.1:{free_port()}",
                "push_in_http_port=5561": f"push_in_http_port={self.publish_port}",
                "prometheus_port=9170": f"prometheus_port={free_port()}",
                "sig_key=PLACEHOLDER-GRIP-KEY": f"sig_key={GRIP_KEY}",
                "x_forwarded_for=append": "x_forwarded_for=truncate:0,append",
            },
        )
        (self.folder / "pushpin.conf").write_text(conf)
        targets = " ".join(f"127.0.0.1:{port}" for port in backends)
        routes = render(DEPLOY / "pushpin-routes", {"127.0.0.1:8001 127.0.0.1:8002": targets})
        (self.folder / "routes").write_text(routes)
        (self.folder / "zurl.conf").write_text(render(DEPLOY / "zurl.conf", {"/var/run/zurl": run}))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grip_url(self) -> str:
        return f"http://127.0.0.1:{self.publish_port}"

    @property
    def stats_spec(self) -> str:
        """Its statistics socket (stats_spec=ipc://{rundir}/{ipc_prefix}stats)."""
        return f"ipc://{self.folder / 'run' / 'pushpin-stats'}"

    def start(self) -> None:
        with (self.folder / "processes.log").open("ab") as log:
            for command in (
                [str(ZURL), f"--config={self.folder / 'zurl.conf'}"],
                [str(PUSHPIN), f"--config={self.folder / 'pushpin.conf'}"],
            ):
                self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        # The publish API answers 200 at its root once the handler runs.
        wait_until_up(self.processes[-1], self.grip_url + "/", self.log)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.folder.rglob("*.log")) if path.is_file()
        )

    def handler_log(self) -> str:
        path = self.folder / "log" / "pushpin-handler.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class Stack:
    pushpin: Pushpin
    daphne: DaphneServer
    tmp_path: Path

    def restart_daphne(self) -> None:
        """Stop daphne and start a new process on its port (Pushpin keeps its connections)."""
        self.daphne.stop()
        replacement = DaphneServer(self.daphne.env, self.tmp_path / "daphne-restarted.log")
        replacement.port = self.daphne.port
        self.daphne = replacement.start()


@pytest.fixture
def stack(e2e_env: dict[str, str], tmp_path: Path) -> Iterator[Stack]:
    require_pushpin()
    daphne = DaphneServer({}, tmp_path / "daphne.log")  # its port first: Pushpin's route
    pushpin = Pushpin([daphne.port])
    daphne.env = {
        **e2e_env,
        "GRIP_URL": pushpin.grip_url,
        "GRIP_KEY": GRIP_KEY,
        "GRIP_STATS": pushpin.stats_spec,
    }
    try:
        pushpin.start()
        daphne.start()
        built = Stack(pushpin, daphne, tmp_path)
        yield built
        built.daphne.stop()
    finally:
        daphne.stop()
        pushpin.stop()


@dataclass
class Viewer:
    """An SSE client through Pushpin, reading on a thread of its own until told to stop."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (event, id, data)
    status: int | None = None
    ended_at: float | None = None  # the response ended (Pushpin closed it)
    error: BaseException | None = None
    opened: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    client: httpx.Client | None = None

    def start(self) -> Viewer:
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.opened.wait(15), f"the stream {self.url} did not open"
        return self

    def _read(self) -> None:
        try:
            self.client = httpx.Client(timeout=httpx.Timeout(10, read=60))
            with self.client as client, connect_sse(client, "GET", self.url, headers=self.headers) as source:
                self.status = source.response.status_code
                self.opened.set()
                if self.status != 200:
                    return
                for sse in source.iter_sse():
                    self.events.append((sse.event, sse.id, sse.data))
            self.ended_at = time.monotonic()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.opened.set()

    def leave(self) -> None:
        """Close the connection, as a viewer closing the page does."""
        assert self.client is not None
        self.client.close()
        assert self.thread is not None
        self.thread.join(10)

    def seqs(self) -> list[int]:
        return [int(json.loads(data)["seq"]) for event, _, data in self.events if event not in _NOT_EVENTS]

    def kinds(self) -> list[str]:
        return [event for event, _, _ in self.events]

    def wait_for(self, seq: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.seqs() and self.seqs()[-1] >= seq:
                return
            time.sleep(0.02)
        raise AssertionError(f"{self.url}: waited for seq {seq}, have {self.seqs()} ({self.error!r})")


_NOT_EVENTS = {"hello", "presence", "reset", "refused"}


@dataclass
class Poller:
    """A long-poll client through Pushpin, polling from `cursor` on a thread of its own."""

    url: str
    cursor: int
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[int] = field(default_factory=list)
    answers: list[httpx.Response] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self) -> Poller:
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self) -> None:
        try:
            with httpx.Client(timeout=30, headers=self.headers) as client:
                while not self.stop.is_set():
                    params = {**self.params, "after": self.cursor, "timeout": 10}
                    answer = client.get(self.url, params=params)
                    self.answers.append(answer)
                    if answer.status_code != 200:
                        return
                    body = answer.json()
                    self.seen.extend(int(event["seq"]) for event in body["events"])
                    self.cursor = int(body["last_seq"])
        except BaseException as error:
            self.error = error

    def wait_for(self, seq: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.cursor >= seq:
                return
            time.sleep(0.02)
        raise AssertionError(f"{self.url}: waited for seq {seq}, have {self.seen} ({self.error!r})")


def last_seq(base_url: str, slug: str) -> int:
    return int(httpx.get(f"{base_url}/rooms/{slug}/poll", timeout=10).json()["last_seq"])


def room(stack: Stack) -> str:
    slug = unique_prefix()
    create_rooms(stack.daphne.env, {slug: ["--owner", "alice"]})
    return slug


def post(stack: Stack, slug: str, user_cookies: dict[str, str], texts: list[str]) -> list[int]:
    """Posted straight to daphne (WebSocket); the seqs the acks name."""
    return [int(ack["seq"]) for ack in post_messages(stack.daphne, slug, user_cookies, texts)]


def test_sse_and_long_poll_through_pushpin_get_every_event_once_in_order(stack: Stack) -> None:
    slug = room(stack)
    cookies = login(stack.daphne.base_url, "alice")
    start = last_seq(stack.pushpin.base_url, slug)
    events_url = f"{stack.pushpin.base_url}/rooms/{slug}/events?after={start}"
    viewers = [Viewer(events_url).start() for _ in range(3)]
    poller = Poller(f"{stack.pushpin.base_url}/rooms/{slug}/poll", start).start()
    time.sleep(1.5)  # every hold is in place, and Pushpin's first look at the link done

    # Two writers at once: commits (and publishes) from two threads of the server interleave.
    writers = [
        threading.Thread(target=post, args=(stack, slug, cookies, [f"{who}{n}" for n in range(30)]))
        for who in ("a", "b")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    expected = list(range(start + 1, start + 61))
    for viewer in viewers:
        viewer.wait_for(expected[-1])
    poller.wait_for(expected[-1])
    poller.stop.set()
    for viewer in viewers:
        assert viewer.status == 200
        assert viewer.seqs() == expected, viewer.seqs()
        assert viewer.kinds().count("hello") == 1
    assert poller.seen == expected
    # They were held by Pushpin, not by daphne: Pushpin subscribed them to the room's channel.
    log = stack.pushpin.handler_log()
    assert log.count(f"/rooms/{slug}/events?after={start} channel=room-") == 3
    assert f"/rooms/{slug}/poll?after={start}" in log


def test_last_event_id_resumes_through_pushpin(stack: Stack) -> None:
    slug = room(stack)
    cookies = login(stack.daphne.base_url, "alice")
    seqs = post(stack, slug, cookies, ["one", "two", "three", "four"])
    viewer = Viewer(
        f"{stack.pushpin.base_url}/rooms/{slug}/events?after=0", headers={"Last-Event-ID": str(seqs[1])}
    ).start()
    viewer.wait_for(seqs[-1])
    more = post(stack, slug, cookies, ["five", "six"])
    viewer.wait_for(more[-1])
    assert viewer.kinds()[0] == "hello"
    assert viewer.seqs() == [*seqs[2:], *more]  # after Last-Event-ID (it wins over after=0)
    assert [event_id for _, event_id, _ in viewer.events[1:]] == [str(s) for s in [*seqs[2:], *more]]
    texts = [json.loads(data)["text"] for event, _, data in viewer.events if event == "message"]
    assert texts == ["three", "four", "five", "six"]


@pytest.mark.alone
def test_a_daphne_restart_under_held_viewers_loses_nothing_and_reconnects_nobody(stack: Stack) -> None:
    slug = room(stack)
    cookies = login(stack.daphne.base_url, "alice")
    first = post(stack, slug, cookies, ["before"])
    viewers = [
        Viewer(f"{stack.pushpin.base_url}/rooms/{slug}/events?after={first[-1]}").start() for _ in range(2)
    ]
    poller = Poller(f"{stack.pushpin.base_url}/rooms/{slug}/poll", first[-1]).start()
    time.sleep(1.5)
    stack.restart_daphne()
    after = post(stack, slug, login(stack.daphne.base_url, "alice"), [f"after {n}" for n in range(10)])
    for viewer in viewers:
        viewer.wait_for(after[-1])
    poller.wait_for(after[-1])
    poller.stop.set()
    for viewer in viewers:
        assert viewer.seqs() == after
        assert viewer.kinds().count("hello") == 1  # the same response all along: no reconnect
        assert viewer.ended_at is None
        assert viewer.error is None
    assert poller.seen == after
    assert all(answer.status_code == 200 for answer in poller.answers)


@pytest.mark.alone  # recovery within a bound
def test_a_lost_publish_is_recovered_through_the_link(stack: Stack) -> None:
    slug = room(stack)
    cookies = login(stack.daphne.base_url, "alice")
    start = post(stack, slug, cookies, ["start"])[-1]
    viewer = Viewer(f"{stack.pushpin.base_url}/rooms/{slug}/events?after={start}").start()
    poller = Poller(f"{stack.pushpin.base_url}/rooms/{slug}/poll", start).start()
    time.sleep(1.5)
    # An event committed by a process that publishes nothing to Pushpin (no GRIP_URL): for
    # Pushpin, a publish that never arrived.
    quiet = {k: v for k, v in stack.daphne.env.items() if not k.startswith("GRIP_")}
    script = (
        "from chat.models import Room, EventKind\n"
        "from chat.domain.eventlog import append_event\n"
        f"append_event(Room.objects.get(slug={slug!r}), EventKind.SYSTEM, text='never published')\n"
    )
    manage(quiet, "shell", "-c", script)
    lost = start + 1
    time.sleep(0.5)
    assert lost not in viewer.seqs()  # not sent: nobody published it
    posted_at = time.monotonic()
    after = post(stack, slug, cookies, ["after the gap"])
    viewer.wait_for(after[-1], timeout=RECOVERY_BOUND_SECS)
    poller.wait_for(after[-1], timeout=RECOVERY_BOUND_SECS)
    recovered_in = time.monotonic() - posted_at
    poller.stop.set()
    print(f"\nrecovered through the link in {recovered_in:.2f} s")
    assert viewer.seqs() == [lost, *after]
    assert poller.seen == [lost, *after]
    texts = [json.loads(data)["text"] for event, _, data in viewer.events if event in {"system", "message"}]
    assert texts == ["never published", "after the gap"]
    assert "#room-" in stack.pushpin.handler_log()  # Pushpin asked the link (Grip-Last logged)


def test_a_private_rooms_stream_is_refused_to_a_non_member(stack: Stack) -> None:
    slug = room(stack)
    owner = login(stack.daphne.base_url, "alice")
    assert (
        SignedIn(stack.daphne.base_url, owner, f"/rooms/{slug}/")
        .post("mod/settings", {"private": True})
        .is_success
    )
    post(stack, slug, owner, ["members only"])
    base = stack.pushpin.base_url
    bob = login(stack.daphne.base_url, "bob")
    for headers in ({}, {"Cookie": cookie_header(bob)}):
        for path in ("events?after=0", "poll?after=0&timeout=2"):
            answer = httpx.get(f"{base}/rooms/{slug}/{path}", headers=headers, timeout=10)
            assert (answer.status_code, answer.json()["code"]) == (403, "private_room"), path
            assert "members only" not in answer.text
    # The owner is let in, through Pushpin.
    viewer = Viewer(
        f"{base}/rooms/{slug}/events?after=0",
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in owner.items())},
    ).start()
    viewer.wait_for(last_seq_of(viewer))
    assert viewer.status == 200
    assert any("members only" in data for _, _, data in viewer.events)


def last_seq_of(viewer: Viewer) -> int:
    """The last seq the viewer's hello announced."""
    deadline = time.monotonic() + 10
    while not viewer.events and time.monotonic() < deadline:
        time.sleep(0.02)
    return int(json.loads(viewer.events[0][2])["last_seq"])


@pytest.mark.alone
def test_a_removed_member_is_cut_off_within_a_second_and_members_read_on(stack: Stack) -> None:
    slug = room(stack)
    base = stack.pushpin.base_url
    owner = login(stack.daphne.base_url, "alice")
    api = SignedIn(stack.daphne.base_url, owner, f"/rooms/{slug}/")
    assert api.post("mod/settings", {"private": True}).is_success
    for name in ("bob", "carol"):
        assert api.post("mod/members", {"add": name}).is_success
    start = post(stack, slug, owner, ["before"])[-1]

    def cookie(user: str) -> dict[str, str]:
        return {"Cookie": cookie_header(login(stack.daphne.base_url, user))}

    bob, carol = cookie("bob"), cookie("carol")
    bob_stream = Viewer(f"{base}/rooms/{slug}/events?after={start}", headers=bob).start()
    carol_stream = Viewer(f"{base}/rooms/{slug}/events?after={start}", headers=carol).start()
    bob_poll = Poller(f"{base}/rooms/{slug}/poll", start, headers=bob).start()
    time.sleep(1.5)
    removed_at = time.monotonic()
    assert api.post("mod/members", {"remove": "bob"}).is_success
    deadline = removed_at + 10
    while bob_stream.ended_at is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bob_stream.ended_at is not None, "the removed member's stream did not end"
    cut_in = bob_stream.ended_at - removed_at
    print(f"\nremoved member's stream ended {cut_in:.3f} s after the removal")
    assert cut_in < CUT_OFF_BOUND_SECS
    # Afterwards bob reads nothing: a new stream and his next poll are refused.
    after = post(stack, slug, owner, ["after the removal"])[-1]
    again = httpx.get(f"{base}/rooms/{slug}/events", params={"after": start}, headers=bob, timeout=10)
    assert (again.status_code, again.json()["code"]) == (403, "private_room")
    bob_poll.thread.join(15)  # type: ignore[union-attr]
    assert [answer.status_code for answer in bob_poll.answers][-1] == 403
    assert after not in bob_poll.seen
    assert after not in bob_stream.seqs()
    assert bob_stream.kinds()[-1] == "refused"
    assert json.loads(bob_stream.events[-1][2])["code"] == "private_room"
    # carol, still a member, goes on: Pushpin asked the link for her stream too, and it held
    # her again: the same response, nothing missed.
    carol_stream.wait_for(after)
    assert carol_stream.ended_at is None
    assert carol_stream.seqs() == list(range(start + 1, after + 1))
    assert carol_stream.kinds().count("hello") == 1


def test_max_rate_samples_danmaku_through_pushpin_and_keeps_every_other_event(stack: Stack) -> None:
    slug = room(stack)
    cookies = login(stack.daphne.base_url, "alice")
    start = last_seq(stack.pushpin.base_url, slug)
    base = f"{stack.pushpin.base_url}/rooms/{slug}/events?after={start}"
    sampled = Viewer(base + "&max_rate=2").start()
    everything = Viewer(base).start()
    time.sleep(1.5)
    style = {"type": "danmaku", "mode": "scroll", "color": "#ffffff", "size": "medium", "video_ms": None}
    frames: list[dict[str, Any]] = [{**style, "text": f"comment {n}"} for n in range(40)]
    frames.append({"type": "message", "text": "a chat message is never skipped"})
    started = time.monotonic()
    answers = post_frames(stack.daphne, slug, cookies, frames)
    took = time.monotonic() - started
    last = int(answers[-1]["seq"])
    everything.wait_for(last)
    sampled.wait_for(last)
    assert everything.seqs() == list(range(start + 1, last + 1))
    shown = [kind for kind in sampled.kinds() if kind not in {"hello", "presence"}]
    kinds = dict(zip(sampled.seqs(), shown, strict=True))
    assert kinds[last] == "message"
    comments = [seq for seq, kind in kinds.items() if kind == "danmaku"]
    # A burst of a fifth of a second's worth (at least 1), then 2 a second.
    assert 1 <= len(comments) <= 1 + 2 * (took + 1), (len(comments), took)
    assert len(comments) < 40
    assert sampled.seqs() == sorted(sampled.seqs())
    assert "-rate-2" in stack.pushpin.handler_log()


@pytest.mark.alone  # waits on Pushpin's statistics reports: slow to come on a loaded machine
def test_presence_counts_the_viewers_pushpin_holds(stack: Stack) -> None:
    slug = room(stack)
    direct = f"{stack.daphne.base_url}/rooms/{slug}/poll"  # a poll answered by daphne itself

    def count() -> int:
        return int(httpx.get(direct, timeout=10).json()["presence"]["count"])

    def wait_for_count(expected: int) -> float:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            if count() == expected:
                return time.monotonic() - started
            time.sleep(0.2)
        raise AssertionError(f"presence stayed at {count()}, expected {expected}")

    assert count() == 1  # the asking poll itself
    viewers = [Viewer(f"{stack.pushpin.base_url}/rooms/{slug}/events").start() for _ in range(3)]
    took = wait_for_count(4)
    print(f"\nthree viewers held by Pushpin counted after {took:.1f} s")
    # Each held viewer's own hello counted the viewers before it, and itself.
    hellos = [json.loads(viewer.events[0][2])["presence"]["count"] for viewer in viewers]
    assert hellos[-1] >= 1
    for viewer in viewers:
        assert viewer.kinds()[0] == "hello"
    # Two leave: Pushpin says so, and the count goes down.
    for viewer in viewers[:2]:
        viewer.leave()
    took = wait_for_count(2)
    print(f"two viewers gone from presence after {took:.1f} s")


@pytest.mark.alone
def test_revoking_a_token_ends_the_streams_pushpin_holds_for_it(stack: Stack) -> None:
    slug = room(stack)
    raw = new_token(stack.daphne, "alice", "read")
    viewer = Viewer(
        f"{stack.pushpin.base_url}/rooms/{slug}/events?after=0", headers={"Authorization": f"Bearer {raw}"}
    ).start()
    assert viewer.status == 200
    time.sleep(1.5)  # held, and Pushpin's first look at the link done
    revoked_at = time.monotonic()
    revoke_on_the_account_page(stack.daphne, "alice", raw)
    while viewer.ended_at is None and time.monotonic() - revoked_at < 10:
        time.sleep(0.01)
    assert viewer.ended_at is not None, "the revoked token's stream did not end"
    cut_in = viewer.ended_at - revoked_at
    print(f"\nrevoked token's stream ended {cut_in:.3f} s after the revocation")
    assert cut_in < CUT_OFF_BOUND_SECS
    assert viewer.kinds()[-1] == "refused"
    assert json.loads(viewer.events[-1][2])["code"] == "token_revoked"
    again = httpx.get(
        f"{stack.pushpin.base_url}/rooms/{slug}/events",
        headers={"Authorization": f"Bearer {raw}"},
        timeout=10,
    )
    assert (again.status_code, again.json()["code"]) == (401, "token_revoked")


def test_pushpin_sends_the_keep_alive_comment_on_an_idle_stream(stack: Stack) -> None:
    slug = room(stack)
    lines: list[str] = []
    started = time.monotonic()
    timeout = httpx.Timeout(10, read=30)
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream("GET", f"{stack.pushpin.base_url}/rooms/{slug}/events") as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            lines.append(line)
            if line == ": keep-alive":
                break
    waited = time.monotonic() - started
    assert lines[0] == "retry: 3000"
    assert lines[-1] == ": keep-alive"
    assert 10 < waited < 25, waited  # every 15 s of silence (Grip-Keep-Alive), as directly


def test_two_pushpins_side_by_side_each_get_every_event(e2e_env: dict[str, str], tmp_path: Path) -> None:
    """GRIP_URL with two publish endpoints: every event is published to each instance, so the
    viewers held by either get all of it, once and in order (docs/OPERATIONS.md)."""
    require_pushpin()
    daphne = DaphneServer({}, tmp_path / "daphne.log")
    pushpins = [Pushpin([daphne.port]), Pushpin([daphne.port])]
    daphne.env = {
        **e2e_env,
        "GRIP_URL": ",".join(pushpin.grip_url for pushpin in pushpins),
        "GRIP_KEY": GRIP_KEY,
        "GRIP_STATS": ",".join(pushpin.stats_spec for pushpin in pushpins),
    }
    viewers: list[Viewer] = []
    try:
        for pushpin in pushpins:
            pushpin.start()
        daphne.start()
        stack = Stack(pushpins[0], daphne, tmp_path)
        slug = room(stack)
        cookies = login(daphne.base_url, "alice")
        start = last_seq(pushpins[0].base_url, slug)
        viewers = [
            Viewer(f"{pushpin.base_url}/rooms/{slug}/events?after={start}").start()
            for pushpin in pushpins
            for _ in range(2)
        ]
        time.sleep(1.5)  # every hold in place
        seqs = post(stack, slug, cookies, [f"both {n}" for n in range(20)])
        expected = list(range(start + 1, seqs[-1] + 1))
        for viewer in viewers:
            viewer.wait_for(expected[-1])
            assert viewer.status == 200
            assert viewer.seqs() == expected, viewer.seqs()
        for pushpin in pushpins:  # each held its own two viewers
            assert pushpin.handler_log().count(f"/rooms/{slug}/events?after={start} channel=room-") == 2
    finally:
        for viewer in viewers:
            viewer.leave()
        daphne.stop()
        for pushpin in pushpins:
            pushpin.stop()
