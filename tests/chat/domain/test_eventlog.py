from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from chat.domain.eventlog import events_after, history_before
from chat.domain.posting import post_message
from chat.models import EventKind, Room, RoomEvent

WRITERS = 20
MESSAGES_EACH = 50


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_gapless_seqs() -> None:
    """20 threads x 50 messages into one room: seqs 1..1000, no gap, no duplicate."""
    room = Room.objects.create(slug="race", title="Race")
    users = [get_user_model().objects.create_user(f"writer{i}") for i in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(user_index: int) -> None:
        try:
            start.wait()
            for n in range(MESSAGES_EACH):
                post_message(room, users[user_index], f"w{user_index} m{n}")
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    seqs = list(RoomEvent.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * MESSAGES_EACH + 1))
    room.refresh_from_db()
    assert room.last_seq == WRITERS * MESSAGES_EACH
    # Each writer's own messages keep their order (commit order = seq order).
    for i in range(WRITERS):
        texts = list(
            RoomEvent.objects.filter(room=room, user=users[i]).order_by("seq").values_list("text", flat=True)
        )
        assert texts == [f"w{i} m{n}" for n in range(MESSAGES_EACH)]


@pytest.mark.django_db(transaction=True)
def test_event_is_published_only_after_commit(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    with mock.patch("chat.realtime.publish._publish") as publish:
        with transaction.atomic():
            event = post_message(room, alice, "hello").event
            assert publish.call_count == 0
        publish.assert_called_once()
        room_id, wire = publish.call_args.args
        assert room_id == room.pk
        assert wire["seq"] == event.seq == 1
        assert wire["text"] == "hello"
        assert wire["user"] == {"id": alice.pk, "name": "alice"}


@pytest.mark.django_db(transaction=True)
def test_rolled_back_event_is_never_published_and_leaves_no_gap(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    def write_then_fail() -> None:
        with transaction.atomic():
            post_message(room, alice, "lost")
            raise RuntimeError("abort")

    with mock.patch("chat.realtime.publish._publish") as publish:
        with pytest.raises(RuntimeError):
            write_then_fail()
        assert publish.call_count == 0
        assert post_message(room, alice, "kept").event.seq == 1


@pytest.mark.django_db
def test_wire_shape(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    event = post_message(room, alice, "  hi  ").event
    (wire,) = events_after(room.pk, 0, 10)
    assert set(wire) == {"seq", "kind", "id", "user", "text", "ts"}
    assert wire["seq"] == 1
    assert wire["kind"] == "message"
    assert wire["id"] == event.pk
    assert wire["text"] == "hi"
    assert wire["ts"].endswith("Z")
    assert len(wire["ts"]) == len("2026-11-22T10:00:00.123Z")


@pytest.mark.django_db
def test_history_is_newest_last_bounded_and_skips_deleted(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    for n in range(1, 8):
        post_message(room, alice, f"m{n}")
    RoomEvent.objects.filter(room=room, seq=6).update(deleted_at="2026-01-01T00:00:00Z")
    latest, more = history_before(room.pk, None, 3)
    assert [e["text"] for e in latest] == ["m4", "m5", "m7"]
    assert more
    older, more = history_before(room.pk, latest[0]["seq"], 10)
    assert [e["text"] for e in older] == ["m1", "m2", "m3"]
    assert not more


@pytest.mark.django_db
def test_deleted_event_keeps_its_seq_but_not_its_content(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    post_message(room, alice, "secret")
    post_message(room, alice, "after")
    RoomEvent.objects.filter(room=room, seq=1).update(deleted_at="2026-01-01T00:00:00Z")
    first, second = events_after(room.pk, 0, 10)
    assert first["seq"] == 1
    assert first["deleted"] is True
    assert first["text"] == ""
    assert first["user"] is None
    assert second["text"] == "after"


@pytest.mark.django_db
def test_events_after_is_ordered_and_bounded(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    for n in range(10):
        post_message(room, alice, f"m{n}")
    assert [e["seq"] for e in events_after(room.pk, 3, 4)] == [4, 5, 6, 7]
    assert events_after(room.pk, 10, 5) == []
    assert RoomEvent.objects.filter(kind=EventKind.MESSAGE).count() == 10


@pytest.mark.django_db
def test_saving_a_stale_room_never_rewinds_its_seq(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    stale = Room.objects.get(pk=room.pk)  # as a form or the admin would hold it
    post_message(room, alice, "one")
    post_message(room, alice, "two")
    stale.title = "Renamed"
    stale.save()
    assert Room.objects.get(pk=room.pk).last_seq == 2
    assert post_message(room, alice, "three").event.seq == 3
    assert Room.objects.get(pk=room.pk).title == "Renamed"
