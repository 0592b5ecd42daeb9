"""The final copy of an import into the log never stalls other rooms' posts (issue 17), and it
stays all or nothing: readers never see part of a file, and a copy that fails midway leaves
nothing behind. On SQLite the copy goes in parts under a reservation of the room's log
(chat.domain.eventlog.LogReservation); PostgreSQL copies in one statement, as before."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from chat.domain.eventlog import LogBusy, LogReservation, append_event, events_after, history_before
from chat.models import EventKind, Room, RoomEvent
from danmaku import imports
from danmaku.imports import import_xml
from danmaku.models import DanmakuImport, RoomVideo, StagedComment
from danmaku.timeline import comments_in_window, count_density

pytestmark = pytest.mark.django_db(transaction=True)

# Big enough that one statement for the whole copy held SQLite's write lock 0.3 to 0.9 s on
# the loaded two-core machine here (a post in another room waited that long).
COMMENTS = 20_000
# In parts, the copy took 0.4 to 0.7 s there and another room posted 40 to 200 times during
# it; in one statement, once or twice (each post waited out the copy).
POSTS_DURING_COPY_MIN = 10
# Generous, for a loaded machine (load average 15 to 18, where a lone post now and then waits
# half a second for a core whatever the database does): the 95th percentile of the posts
# during the copy. In parts it was 20 to 60 ms there.
SLOW_POST_SECS = 0.3

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL copies in one statement (it locks one room only)"
)


def bilibili(count: int) -> bytes:
    """`count` comments, a tenth of them positioned (mode 7, with a motion and a line break)."""
    lines = []
    for n in range(count):
        if n % 10 == 0:
            payload = [
                0.25,
                0.5,
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
            mode, text = 7, json.dumps(payload)
        else:
            mode, text = 1, f"comment {n} of the file"
        text = text.replace("&", "&amp;").replace("<", "&lt;")
        lines.append(f'<d p="{n % 590}.250,{mode},25,16777215,1700000000,0,{n:08x},{n}">{text}</d>')
    return ("<i>" + "\n".join(lines) + "</i>").encode()


def test_posts_in_other_rooms_wait_little_while_an_import_is_copied_into_the_log(
    recorded: RoomVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Room.objects.create(slug="elsewhere", title="Elsewhere")
    document = bilibili(COMMENTS)
    copying: list[float] = []  # when the final copy started and ended
    commit = imports._commit

    def timed_commit(*args: Any) -> int:
        copying.append(time.perf_counter())
        try:
            return commit(*args)
        finally:
            copying.append(time.perf_counter())

    monkeypatch.setattr(imports, "_commit", timed_commit)
    posts: list[tuple[float, float]] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def importer() -> None:
        try:
            import_xml(recorded.room, io.BytesIO(document))
        except BaseException as error:  # the test reports it
            errors.append(error)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=importer)
    thread.start()
    try:
        while not done.is_set():
            started = time.perf_counter()
            append_event(other, EventKind.MESSAGE, text="still here")
            posts.append((started, time.perf_counter()))
            time.sleep(0.002)
    finally:
        thread.join(120)
    assert not errors
    assert Room.objects.get(pk=recorded.room.pk).last_seq == COMMENTS
    assert RoomEvent.objects.filter(room=recorded.room).count() == COMMENTS
    began, ended = copying
    during = sorted(end - start for start, end in posts if end >= began and start <= ended)
    # One statement: a post or two, waiting out the whole copy. In parts: posts went on.
    assert len(during) >= POSTS_DURING_COPY_MIN, (len(during), ended - began, during[-3:])
    assert during[len(during) * 95 // 100] < SLOW_POST_SECS, during[-10:]


@pytest.fixture
def copy_in_parts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Parts of 4 comments; after each part, what readers of the room saw, and what a post
    into it got."""
    monkeypatch.setattr(imports, "COPY_CHUNK", 4)
    seen: list[dict[str, Any]] = []
    renew = LogReservation.renew

    def spy(self: LogReservation) -> None:
        renew(self)
        room = Room.objects.get(pk=self.room_id)
        try:
            append_event(room, EventKind.MESSAGE, text="during the copy")
            posted = "posted"
        except LogBusy as busy:
            posted = busy.code
        seen.append(
            {
                "rows": RoomEvent.objects.filter(room_id=self.room_id).count(),
                "events_after": len(events_after(self.room_id, 0, 100)),
                "history": len(history_before(self.room_id, None, 100)[0]),
                "window": len(comments_in_window(room, 0, 600_000, 100)[0]),
                "density": sum(count_density(room, RoomVideo.objects.get(room=room), 10)["counts"]),
                "posted": posted,
            }
        )

    monkeypatch.setattr(LogReservation, "renew", spy)
    return seen


@sqlite_only
def test_readers_see_none_of_an_import_until_its_last_part_is_in_and_posts_into_it_wait(
    recorded: RoomVideo, copy_in_parts: list[dict[str, Any]]
) -> None:
    room = recorded.room
    append_event(room, EventKind.MESSAGE, text="before")
    report = import_xml(room, io.BytesIO(bilibili(10)))
    # Three parts (4, 4, 2) and the joining transaction; readers saw only the message before.
    assert [part["rows"] for part in copy_in_parts] == [1, 5, 9, 11]
    assert all(part["events_after"] == 1 and part["history"] == 1 for part in copy_in_parts)
    assert all(part["window"] == 0 and part["density"] == 0 for part in copy_in_parts)
    assert {part["posted"] for part in copy_in_parts} == {"log_busy"}
    assert report.last_seq == 11 == Room.objects.get(pk=room.pk).last_seq
    assert [event["seq"] for event in events_after(room.pk, 0, 100)] == list(range(1, 12))
    assert Room.objects.get(pk=room.pk).log_reserved_until is None
    assert append_event(room, EventKind.MESSAGE, text="after").seq == 12


@sqlite_only
def test_a_copy_that_fails_midway_leaves_nothing_and_frees_the_room(
    recorded: RoomVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = recorded.room
    append_event(room, EventKind.MESSAGE, text="before")
    monkeypatch.setattr(imports, "COPY_CHUNK", 4)
    renew = LogReservation.renew
    copied: list[int] = []

    class Broken(Exception):
        pass

    def third_part_fails(self: LogReservation) -> None:
        copied.append(RoomEvent.objects.filter(room=room).count())
        if len(copied) == 3:
            raise Broken("the disk filled up")
        renew(self)

    monkeypatch.setattr(LogReservation, "renew", third_part_fails)
    with pytest.raises(Broken):
        import_xml(room, io.BytesIO(bilibili(10)))
    assert copied[:3] == [1, 5, 9]  # two parts of four were in when the third failed
    assert list(RoomEvent.objects.filter(room=room).values_list("seq", flat=True)) == [1]
    fresh = Room.objects.get(pk=room.pk)
    assert (fresh.last_seq, fresh.log_reserved_until) == (1, None)
    assert not StagedComment.objects.exists()
    assert DanmakuImport.objects.get().status == DanmakuImport.Status.FAILED
    assert append_event(room, EventKind.MESSAGE, text="after").seq == 2


@sqlite_only
def test_a_video_changed_before_the_copy_joins_the_log_imports_nothing(
    recorded: RoomVideo, copy_in_parts: list[dict[str, Any]]
) -> None:
    room = recorded.room

    def change_video(self: LogReservation, count: int, finish: Any = None) -> int:
        RoomVideo.objects.filter(room=room).update(url="https://videos.example/b.mp4")
        return join(self, count, finish)

    join = LogReservation.join
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LogReservation, "join", change_video)
        with pytest.raises(Exception, match="video changed"):
            import_xml(room, io.BytesIO(bilibili(10)))
    assert not RoomEvent.objects.filter(room=room).exists()
    assert Room.objects.get(pk=room.pk).log_reserved_until is None


def test_a_reservation_whose_copier_died_is_freed_when_its_lease_runs_out(recorded: RoomVideo) -> None:
    room = recorded.room
    reservation = LogReservation.take(room.pk)
    RoomEvent.objects.create(room=room, seq=1, kind=EventKind.DANMAKU, text="orphan", video_ms=5)
    with pytest.raises(LogBusy):
        append_event(room, EventKind.MESSAGE, text="too soon")
    assert events_after(room.pk, 0, 10) == []  # the copied row is not in the log
    Room.objects.filter(pk=room.pk).update(log_reserved_until=timezone.now() - timedelta(seconds=1))
    event = append_event(room, EventKind.MESSAGE, text="after the lease")
    assert event.seq == 1
    assert list(RoomEvent.objects.filter(room=room).values_list("text", flat=True)) == ["after the lease"]
    with pytest.raises(Exception, match="ran out"):
        reservation.join(1)


def test_a_refused_post_leaves_the_other_rooms_posts_of_its_trip_written(recorded: RoomVideo) -> None:
    from chat.domain.batching import _run_all

    other = Room.objects.create(slug="elsewhere", title="Elsewhere")
    LogReservation.take(recorded.room.pk)
    outcomes = _run_all(
        [
            lambda: append_event(other, EventKind.MESSAGE, text="one"),
            lambda: append_event(recorded.room, EventKind.MESSAGE, text="busy"),
            lambda: append_event(other, EventKind.MESSAGE, text="two"),
        ]
    )
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert isinstance(outcomes[1][1], LogBusy)
    assert outcomes[1][1].status == 503
    assert list(RoomEvent.objects.filter(room=other).values_list("text", flat=True)) == ["one", "two"]


def test_an_http_write_into_a_room_whose_log_is_reserved_answers_503_log_busy(
    client: Any, recorded: RoomVideo, alice: Any
) -> None:
    LogReservation.take(recorded.room.pk)
    client.force_login(alice)
    answer = client.post(
        f"/rooms/{recorded.room.slug}/messages",
        data=json.dumps({"text": "hello", "nonce": "n1"}),
        content_type="application/json",
    )
    assert answer.status_code == 503
    assert answer.json()["code"] == "log_busy"
    assert answer.json()["nonce"] == "n1"
    assert answer["Retry-After"] == "1"
    assert not RoomEvent.objects.exists()


@pytest.mark.timeout(30)
async def test_a_websocket_post_waits_for_a_reserved_log_and_is_then_acknowledged(
    hub: Any, recorded: RoomVideo, alice: Any
) -> None:
    from channels.db import database_sync_to_async

    from tests.chat.asgi_clients import connect

    room = recorded.room
    reservation = await database_sync_to_async(LogReservation.take)(room.pk)
    comm = await connect(f"/ws/rooms/{room.slug}/", alice)
    await comm.next_frame("hello")
    sending = asyncio.ensure_future(comm.send({"type": "message", "text": "patient", "nonce": "n1"}))
    await asyncio.sleep(0.3)
    assert not sending.done()  # held while the log is reserved, not refused
    await database_sync_to_async(reservation.cancel)()
    ack = await asyncio.wait_for(sending, 10)
    assert ack["type"] == "ack"
    assert ack["seq"] == 1
    await comm.disconnect()
