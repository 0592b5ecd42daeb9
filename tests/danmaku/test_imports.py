"""Imports in chunks (invisible until the last commits, nothing left after a failure), one at a
time per room and per user, within quotas; exports streamed a page at a time, limited per address."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from chat.errors import ChatError
from chat.models import Room, RoomEvent
from danmaku import bilibili, imports
from danmaku.bilibili import XmlRefused
from danmaku.imports import import_xml
from danmaku.models import DanmakuImport, RoomVideo, StagedComment

pytestmark = pytest.mark.django_db


def document(count: int, *, start: int = 0, tail: str = "</i>") -> bytes:
    comments = "".join(f'<d p="{(start + n) % 500}.5,1,25,16777215">c{start + n}</d>' for n in range(count))
    return f"<i>{comments}{tail}".encode()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Chunks of 3 comments; each records (staged so far, visible events) as it is written."""
    monkeypatch.setattr(imports, "STAGE_CHUNK", 3)
    seen: list[tuple[int, int]] = []
    write = imports._write_chunk

    def spy(record: DanmakuImport, rows: list[list[Any]], staged: int) -> None:
        write(record, rows, staged)
        seen.append((StagedComment.objects.filter(batch=record).count(), RoomEvent.objects.count()))

    monkeypatch.setattr(imports, "_write_chunk", spy)
    return seen


def test_comments_are_staged_in_chunks_and_appear_only_when_the_last_commits(
    recorded: RoomVideo, small_chunks: list[tuple[int, int]]
) -> None:
    report = import_xml(recorded.room, io.BytesIO(document(10)))
    assert report.imported == 10
    # Four chunks (3, 3, 3, 1) were written one by one, and none was visible meanwhile.
    assert small_chunks == [(3, 0), (6, 0), (9, 0), (10, 0)]
    events = list(RoomEvent.objects.order_by("seq"))
    assert [event.seq for event in events] == list(range(1, 11))
    assert [event.text for event in events] == [f"c{n}" for n in range(10)]
    assert all(event.data["imported"] and event.user_id is None for event in events)
    assert report.last_seq == 10 == Room.objects.get(pk=recorded.room.pk).last_seq
    assert not StagedComment.objects.exists()
    assert DanmakuImport.objects.get().status == DanmakuImport.Status.COMMITTED


@pytest.mark.parametrize(
    "broken",
    [
        document(10, tail=""),  # ends before its root element does
        document(10, tail="<!DOCTYPE x></i>"),
        document(10) + b"<d>",
    ],
)
def test_a_file_that_fails_after_chunks_were_staged_leaves_nothing(
    recorded: RoomVideo, small_chunks: list[tuple[int, int]], broken: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bilibili, "READ_CHUNK", 64)  # the file is read (and staged) as it arrives
    with pytest.raises(XmlRefused):
        import_xml(recorded.room, io.BytesIO(broken))
    assert small_chunks[-1][0] >= 6  # the failure came after chunks were written
    assert not RoomEvent.objects.exists()
    assert not StagedComment.objects.exists()
    assert Room.objects.get(pk=recorded.room.pk).last_seq == 0
    assert DanmakuImport.objects.get().status == DanmakuImport.Status.FAILED


def test_a_video_changed_during_the_import_imports_nothing(
    recorded: RoomVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = imports._stage

    def stage_then_change_video(*args: Any) -> Any:
        report = stage(*args)
        RoomVideo.objects.filter(pk=recorded.pk).update(url="https://videos.example/b.mp4", since_seq=0)
        return report

    monkeypatch.setattr(imports, "_stage", stage_then_change_video)
    with pytest.raises(ChatError) as refused:
        import_xml(recorded.room, io.BytesIO(document(5)))
    assert refused.value.code == "video_changed"
    assert not RoomEvent.objects.exists()
    assert not StagedComment.objects.exists()


def test_one_import_at_a_time_per_room_and_per_user_and_abandoned_ones_are_cleared(
    recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    room = recorded.room
    running = DanmakuImport.objects.create(room=room, user=bob, comments=1)
    StagedComment.objects.create(batch=running, ordinal=1, text="half", data={}, video_ms=1)
    with pytest.raises(ChatError) as busy:
        import_xml(room, io.BytesIO(document(2)), user=alice)
    assert (busy.value.code, busy.value.status) == ("import_busy", 409)
    assert "this room" in busy.value.message
    other = Room.objects.create(slug="other", title="Other")
    RoomVideo.objects.create(room=other, url="https://videos.example/a.mp4", duration_ms=600_000)
    with pytest.raises(ChatError) as mine:
        import_xml(other, io.BytesIO(document(2)), user=bob)
    assert "your account" in mine.value.message
    # Left alone past ABANDONED_AFTER, it was a process that died: the next import clears it.
    DanmakuImport.objects.filter(pk=running.pk).update(updated_at=timezone.now() - imports.ABANDONED_AFTER)
    assert import_xml(room, io.BytesIO(document(2)), user=alice).imported == 2
    running.refresh_from_db()
    assert running.status == DanmakuImport.Status.FAILED
    assert not StagedComment.objects.exists()
    assert RoomEvent.objects.filter(room=room).count() == 2


def test_quotas_per_user_and_per_room_refuse_with_retry_after(
    recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser, settings: Any
) -> None:
    settings.DANMAKU_IMPORT_QUOTA_USER = "10/3600"
    settings.DANMAKU_IMPORT_QUOTA_ROOM = "15/60"
    room = recorded.room
    assert import_xml(room, io.BytesIO(document(8)), user=alice).imported == 8
    with pytest.raises(ChatError) as over:  # 8 more would pass alice's 10
        import_xml(room, io.BytesIO(document(8, start=100)), user=alice)
    assert (over.value.code, over.value.status) == ("import_quota", 429)
    assert "(2)" in over.value.message
    assert 3590 <= over.value.retry_after <= 3601
    assert RoomEvent.objects.count() == 8  # the refused import left nothing
    # The two it read before the refusal count (reading the file was the cost): none left.
    with pytest.raises(ChatError) as spent:
        import_xml(room, io.BytesIO(document(1, start=200)), user=alice)
    assert "used up" in spent.value.message
    # Bob has his own quota, but the room's 15 a minute are down to 5 (8 + 2 read).
    with pytest.raises(ChatError) as room_full:
        import_xml(room, io.BytesIO(document(6, start=300)), user=bob)
    assert "(5)" in room_full.value.message
    assert room_full.value.retry_after <= 61
    # The operator's command has no quota.
    assert import_xml(room, io.BytesIO(document(5, start=400))).imported == 5
    # An hour later the window has moved on.
    DanmakuImport.objects.update(created_at=timezone.now() - timedelta(hours=2))
    assert import_xml(room, io.BytesIO(document(4, start=500)), user=alice).imported == 4


def test_the_upload_answers_quota_and_busy_refusals_with_their_codes(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser, settings: Any
) -> None:
    settings.DANMAKU_IMPORT_QUOTA_USER = "3/3600"
    room = recorded.room
    room.owner = alice
    room.save()
    client.force_login(alice)

    def upload(content: bytes) -> Any:
        return client.post(f"/rooms/{room.slug}/mod/import", {"file": SimpleUploadedFile("d.xml", content)})

    assert upload(document(3)).json()["imported"] == 3
    refused = upload(document(1, start=10))
    assert (refused.status_code, refused.json()["code"]) == (429, "import_quota")
    assert int(refused["Retry-After"]) >= 1
    settings.DANMAKU_IMPORT_QUOTA_USER = "100/3600"
    DanmakuImport.objects.create(room=room, comments=0)  # another import running here
    busy = upload(document(1, start=20))
    assert (busy.status_code, busy.json()["code"]) == (409, "import_busy")


def streamed(response: Any) -> bytes:
    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(collect)()


def test_the_export_streams_page_by_page_in_video_order(
    client: Client, recorded: RoomVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bilibili, "EXPORT_PAGE", 4)
    # Many comments share a position: pages must continue by (video_ms, seq), not video_ms.
    source = "".join(f'<d p="{n // 5}.25,1,25,{n}">n{n}</d>' for n in range(23))
    import_xml(recorded.room, io.BytesIO(f"<i>{source}</i>".encode()))
    pages: list[int] = []
    page = bilibili.export_page

    def counted(*args: Any) -> Any:
        rows = page(*args)
        pages.append(len(rows))
        return rows

    monkeypatch.setattr(bilibili, "export_page", counted)
    answer = client.get(f"/rooms/{recorded.room.slug}/danmaku.xml")
    assert answer.status_code == 200
    assert answer.streaming
    body = streamed(answer).decode()
    assert pages == [4, 4, 4, 4, 4, 3]
    texts = [line.split(">")[1].split("<")[0] for line in body.splitlines() if line.startswith("<d ")]
    assert texts == [f"n{n}" for n in range(23)]
    assert body.endswith("</i>\n")


def test_exports_are_limited_per_address(client: Client, recorded: RoomVideo, settings: Any) -> None:
    settings.DANMAKU_EXPORT_RATE_IP = "2/60"
    url = f"/rooms/{recorded.room.slug}/danmaku.xml"
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url)
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 60
    other = client.get(url, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200
    streamed(other)
