"""The time-window API, DPlayer's API and Bilibili XML (export, import, round trip, hostile files)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AbstractBaseUser
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from chat.domain.moderation.removal import delete_event
from chat.domain.wire import event_to_wire
from chat.models import Room, RoomEvent
from danmaku.bilibili import XmlRefused
from danmaku.comments import post_danmaku
from danmaku.imports import import_xml
from danmaku.models import RoomVideo
from danmaku.views import set_video

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"


def comment(room: Room, user: AbstractBaseUser, video_ms: int, text: str = "c", **fields: Any) -> RoomEvent:
    return post_danmaku(room, user, {"text": text, "video_ms": video_ms, **fields}).event


def test_window_returns_comments_in_video_order(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    room = recorded.room
    positions = [5000, 1000, 3000, 3000, 9000, 0, 7000]
    for n, video_ms in enumerate(positions):
        comment(room, alice, video_ms, text=f"at {video_ms} #{n}")
    body = client.get("/rooms/lobby/danmaku", {"from_ms": 1000, "to_ms": 7000}).json()
    assert [e["video_ms"] for e in body["events"]] == [1000, 3000, 3000, 5000]
    same_time = [e for e in body["events"] if e["video_ms"] == 3000]
    assert same_time[0]["seq"] < same_time[1]["seq"]
    assert body["more"] is False
    for event in body["events"]:  # the same JSON as on every transport
        assert event == event_to_wire(RoomEvent.objects.get(pk=event["id"]))
    assert (body["from_ms"], body["to_ms"]) == (1000, 7000)
    assert body["last_seq"] == len(positions)
    limited = client.get("/rooms/lobby/danmaku", {"from_ms": 0, "to_ms": 10_000, "limit": 3}).json()
    assert [e["video_ms"] for e in limited["events"]] == [0, 1000, 3000]
    assert limited["more"] is True
    everything = client.get("/rooms/lobby/danmaku").json()
    assert len(everything["events"]) == len(positions)


def test_window_leaves_out_deleted_live_and_previous_video_comments(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    room = recorded.room
    keep = comment(room, alice, 2000, text="keep")
    gone = comment(room, alice, 2500, text="gone")
    room.owner = alice
    room.save()
    delete_event(room, alice, gone.pk)
    assert [e["text"] for e in client.get("/rooms/lobby/danmaku").json()["events"]] == ["keep"]
    set_video(room, recorded, {"url": "https://videos.example/b.mp4"})
    assert client.get("/rooms/lobby/danmaku").json()["events"] == []
    comment(room, alice, 100, text="new video")
    assert [e["text"] for e in client.get("/rooms/lobby/danmaku").json()["events"]] == ["new video"]
    assert RoomEvent.objects.filter(pk=keep.pk).exists()  # still in the log and history


@pytest.mark.parametrize(
    "query",
    [
        {"from_ms": "x"},
        {"from_ms": "-1"},
        {"to_ms": "1e3"},
        {"from_ms": "10", "to_ms": "5"},
        {"limit": "0"},
        {"limit": "5001"},
        {"from_ms": "9" * 40},
    ],
)
def test_window_refuses_bad_parameters(client: Client, recorded: RoomVideo, query: dict[str, str]) -> None:
    answer = client.get("/rooms/lobby/danmaku", query)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


def test_window_of_unknown_room_is_404(client: Client, db: None) -> None:
    answer = client.get("/rooms/nowhere/danmaku")
    assert answer.status_code == 404
    assert answer.json()["code"] == "room_not_found"


def test_window_query_uses_the_video_time_index(recorded: RoomVideo) -> None:
    from danmaku.timeline import current_video, timeline

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a tiny table: make the planner show it can use the index
            cursor.execute("SET enable_seqscan = off")
    query = (
        timeline(recorded.room, current_video(recorded.room))
        .filter(video_ms__gte=0, video_ms__lt=1000)
        .order_by("video_ms", "seq")[:100]
    )
    plan = query.explain()
    assert "room_event_video_time" in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan.upper(), plan  # no sort: the index gives the order


# DPlayer


def test_dplayer_read_format(client: Client, recorded: RoomVideo, alice: AbstractBaseUser) -> None:
    room = recorded.room
    comment(room, alice, 2500, text="top one", mode="top", color="#ff0000")
    comment(room, alice, 1000, text="first", mode="scroll")
    comment(room, alice, 4000, text="bottom", mode="bottom", color="#00ff00")
    comment(room, alice, 5000, text="back", mode="reverse")
    body = client.get("/dplayer/v3/", {"id": "lobby", "max": "10"}).json()
    assert body == {
        "code": 0,
        "data": [
            [1.0, 0, 0xFFFFFF, "alice", "first"],
            [2.5, 1, 0xFF0000, "alice", "top one"],
            [4.0, 2, 0x00FF00, "alice", "bottom"],
            [5.0, 0, 0xFFFFFF, "alice", "back"],
        ],
    }
    newest_two = client.get("/dplayer/v3/", {"id": "lobby", "max": "2"}).json()["data"]
    assert [row[4] for row in newest_two] == ["bottom", "back"]


def test_dplayer_read_errors(client: Client, recorded: RoomVideo) -> None:
    missing = client.get("/dplayer/v3/", {"id": "nowhere"})
    assert missing.status_code == 404
    assert missing.json()["code"] != 0
    assert missing.json()["error"] == "room_not_found"
    assert client.get("/dplayer/v3/").json()["error"] == "invalid"
    assert client.get("/dplayer/v3/", {"id": "lobby", "max": "-3"}).json()["error"] == "invalid"


def dplayer_post(client: Client, body: dict[str, Any], origin: str | None = ORIGIN) -> Any:
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post("/dplayer/v3/", data=json.dumps(body), content_type="application/json", **headers)


def test_dplayer_send(client: Client, recorded: RoomVideo, alice: AbstractBaseUser) -> None:
    body = {
        "id": "lobby",
        "author": "someone-else",
        "time": 12.345,
        "text": "from dplayer",
        "color": 16711680,
        "type": 1,
    }
    assert dplayer_post(client, body).status_code == 401  # signed out
    client.force_login(alice)
    answer = dplayer_post(client, body)
    assert answer.status_code == 200
    assert answer.json()["code"] == 0
    event = RoomEvent.objects.get(pk=answer.json()["data"]["id"])
    assert (event.user_name, event.video_ms, event.text) == ("alice", 12345, "from dplayer")
    assert event.data == {"mode": "top", "color": "#ff0000", "size": "medium"}
    newer = dplayer_post(
        client, {"player": "lobby", "time": 1, "text": "named", "color": "#fff", "type": "bottom"}
    )
    assert newer.json()["code"] == 0
    assert RoomEvent.objects.get(pk=newer.json()["data"]["id"]).data["color"] == "#ffffff"


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"text": ""}, "empty"),
        ({"text": "y" * 101}, "too_long"),
        ({"type": 7}, "invalid_mode"),
        ({"color": -1}, "invalid_color"),
        ({"color": "blue"}, "invalid_color"),
        ({"time": 601}, "invalid_video_ms"),
        ({"time": "soon"}, "invalid_video_ms"),
        ({"id": "nowhere"}, "room_not_found"),
        ({"id": ["lobby"]}, "invalid"),
    ],
)
def test_dplayer_send_validates_like_every_write_path(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser, override: dict[str, Any], code: str
) -> None:
    client.force_login(alice)
    body = {"id": "lobby", "time": 1, "text": "ok", "color": 0xFFFFFF, "type": 0, **override}
    answer = dplayer_post(client, body)
    assert answer.status_code >= 400
    assert answer.json()["code"] != 0
    assert answer.json()["error"] == code
    assert not RoomEvent.objects.exists()


def test_dplayer_send_refuses_other_sites_and_form_posts(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    client.force_login(alice)
    body = {"id": "lobby", "time": 1, "text": "forged", "type": 0}
    cross = dplayer_post(client, body, origin="https://evil.example")
    assert cross.status_code == 403
    assert cross.json()["error"] == "csrf_failed"
    form = client.post("/dplayer/v3/", {"id": "lobby", "text": "form"}, HTTP_ORIGIN=ORIGIN)
    assert form.status_code == 400
    assert not RoomEvent.objects.exists()


# Bilibili XML

SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<i><chatserver>chat.bilibili.com</chatserver><chatid>1</chatid>
<d p="1.5,1,25,16777215,1700000000,0,abc,1">scroll &amp; &lt;b&gt;bold&lt;/b&gt;</d>
<d p="2.25,4,18,16711680,1700000001,0,abd,2">bottom small red</d>
<d p="3,5,36,65280,1700000002,0,abe,3">top large green</d>
<d p="4,6,25,255,1700000003,0,abf,4">reverse</d>
<d p="5,9,25,255,1700000004,0,abg,5">[a mode nobody knows]</d>
<d p="6,8,25,255,1700000005,0,abh,6">code</d>
<d p="7,1,25,255">{long}</d>
<d p="oops">malformed</d>
<d p="700,1,25,255,1700000006,0,abi,7">past the end</d>
</i>
""".replace("{long}", "z" * 150)


def test_import_keeps_supported_comments_and_counts_the_rest(recorded: RoomVideo) -> None:
    report = import_xml(recorded.room, io.BytesIO(SAMPLE.encode()))
    assert report.imported == 4
    assert dict(report.skipped) == {
        "unsupported_mode": 1,
        "code_comment": 1,
        "too_long": 1,
        "malformed": 1,
        "invalid_video_ms": 1,
    }
    events = list(RoomEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert [(e.video_ms, e.data["mode"], e.data["size"], e.data["color"], e.text) for e in events] == [
        (1500, "scroll", "medium", "#ffffff", "scroll & <b>bold</b>"),
        (2250, "bottom", "small", "#ff0000", "bottom small red"),
        (3000, "top", "large", "#00ff00", "top large green"),
        (4000, "reverse", "medium", "#0000ff", "reverse"),
    ]
    assert Room.objects.get(pk=recorded.room.pk).last_seq == 4


def streamed(response: Any) -> bytes:
    """A streamed response's body, read the way daphne reads it (its iterator is async)."""

    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(collect)()


def test_export_round_trip_keeps_every_supported_comment(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    rng = random.Random(7)
    modes = ["scroll", "top", "bottom", "reverse"]
    for n in range(60):
        comment(
            recorded.room,
            alice,
            rng.randrange(0, 600_000),
            text=f"<&>\"' {n} 弹幕 ﷽",
            mode=rng.choice(modes),
            size=rng.choice(["small", "medium", "large"]),
            color=f"#{rng.randrange(0, 0xFFFFFF):06x}",
        )
    deleted = RoomEvent.objects.order_by("seq").first()
    assert deleted is not None
    recorded.room.owner = alice
    recorded.room.save()
    delete_event(recorded.room, alice, deleted.pk)
    exported = client.get("/rooms/lobby/danmaku.xml")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("application/xml")
    document = streamed(exported)
    other = Room.objects.create(slug="copy", title="Copy")
    RoomVideo.objects.create(room=other, url="https://videos.example/a.mp4", duration_ms=600_000)
    report = import_xml(other, io.BytesIO(document))
    assert report.imported == 59
    assert report.skipped_total == 0

    def key(event: RoomEvent) -> tuple[Any, ...]:
        return (event.video_ms, event.text, event.data["mode"], event.data["size"], event.data["color"])

    original = sorted(
        key(e) for e in RoomEvent.objects.filter(room=recorded.room, kind="danmaku", deleted_at=None)
    )
    copied = sorted(key(e) for e in RoomEvent.objects.filter(room=other))
    assert copied == original


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE i [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b'<i><d p="1,1,25,0">&b;</d></i>',
        b'<?xml version="1.0"?><!DOCTYPE i SYSTEM "file:///etc/passwd"><i><d p="1,1,25,0">x</d></i>',
        b'<i><d p="1,1,25,0">unclosed</i>',
        b"\xff\xfe not xml at all",
    ],
)
def test_hostile_xml_is_refused_and_imports_nothing(recorded: RoomVideo, document: bytes) -> None:
    with pytest.raises(XmlRefused):
        import_xml(recorded.room, io.BytesIO(document))
    assert not RoomEvent.objects.exists()


def test_huge_xml_is_refused_by_size_and_by_count(recorded: RoomVideo, settings: Any) -> None:
    body = b"<i>" + b'<d p="1,1,25,0">x</d>' * 5000 + b"</i>"
    with pytest.raises(XmlRefused, match="larger than"):
        import_xml(recorded.room, io.BytesIO(body), max_bytes=10_000)
    settings.DANMAKU_IMPORT_MAX_COMMENTS = 100
    with pytest.raises(XmlRefused, match="more than 100"):
        import_xml(recorded.room, io.BytesIO(body))
    assert not RoomEvent.objects.exists()


def test_import_command_reports_and_needs_a_recorded_video(tmp_path: Path, room: Room) -> None:
    path = tmp_path / "comments.xml"
    path.write_text(SAMPLE, encoding="utf-8")
    with pytest.raises(CommandError, match="recorded video"):
        call_command("import_danmaku", "lobby", str(path))
    RoomVideo.objects.create(room=room, url="https://videos.example/a.mp4", duration_ms=600_000)
    out = io.StringIO()
    call_command("import_danmaku", "lobby", str(path), stdout=out)
    assert "Imported 4 comments" in out.getvalue()
    assert "unsupported_mode: 1" in out.getvalue()
    assert "code_comment: 1" in out.getvalue()
    with pytest.raises(CommandError, match="no room"):
        call_command("import_danmaku", "nowhere", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_danmaku", "lobby", str(tmp_path / "missing.xml"))


def test_moderators_import_xml_by_upload(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from chat.models import AuditEntry

    room = recorded.room
    room.owner = alice
    room.save()

    def upload(content: bytes) -> Any:
        return client.post("/rooms/lobby/mod/import", {"file": SimpleUploadedFile("d.xml", content)})

    assert upload(SAMPLE.encode()).status_code == 401
    client.force_login(bob)
    assert upload(SAMPLE.encode()).json()["code"] == "forbidden"
    client.force_login(alice)
    report = upload(SAMPLE.encode()).json()
    assert report["imported"] == 4
    assert report["skipped"]["unsupported_mode"] == 1
    assert report["skipped"]["code_comment"] == 1
    assert report["format"] == "bilibili"
    assert RoomEvent.objects.filter(room=room, kind="danmaku").count() == 4
    hostile = upload(b'<!DOCTYPE i [<!ENTITY a "x">]><i><d p="1,1,25,0">&a;</d></i>')
    assert (hostile.status_code, hostile.json()["code"]) == (400, "invalid_xml")
    assert client.post("/rooms/lobby/mod/import", {}).json()["code"] == "invalid"
    assert AuditEntry.objects.filter(room=room, action="import").count() == 1


def test_dplayer_send_obeys_review_and_per_address_limits(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser, settings: Any
) -> None:
    from chat.domain.room_settings import update_settings

    room = recorded.room
    room.owner = alice
    room.save()
    update_settings(room, alice, {"review": "all"})
    client.force_login(bob)
    held = dplayer_post(client, {"id": "lobby", "time": 1, "text": "please", "type": 0})
    assert held.status_code == 200
    assert held.json()["code"] == 0
    assert held.json()["data"]["held"] is True
    assert not RoomEvent.objects.filter(room=room, kind="danmaku").exists()
    update_settings(room, alice, {"review": "off"})
    settings.CHAT_MESSAGE_RATE_IP = "1/60"
    assert dplayer_post(client, {"id": "lobby", "time": 1, "text": "one", "type": 0}).json()["code"] == 0
    limited = dplayer_post(client, {"id": "lobby", "time": 2, "text": "two", "type": 0})
    assert (limited.status_code, limited.json()["error"]) == (429, "rate_limited")
    assert int(limited["Retry-After"]) >= 1


@pytest.mark.parametrize("seconds", ["1e308", "1e300", "9007199254740.993", "-0.5", "nan", "inf", "1e-400x"])
def test_a_time_no_video_can_have_is_skipped_as_malformed(recorded: RoomVideo, seconds: str) -> None:
    """`p="1e308,..."` made the import fail with a server error (the position overflowed)."""
    document = f'<i><d p="{seconds},1,25,16777215">far</d><d p="1.5,1,25,16777215">near</d></i>'
    report = import_xml(recorded.room, io.BytesIO(document.encode()))
    assert report.imported == 1
    assert dict(report.skipped) == {"malformed": 1}


def test_export_parses_when_stored_rows_hold_characters_xml_forbids(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    """Rows stored before input cleaning refused these (or written around it) cannot make the
    export unparseable for everyone: the characters XML 1.0 forbids are left out on the way out."""
    comment(recorded.room, alice, 1000, text="fine")
    bad = comment(recorded.room, alice, 2000, text="placeholder")
    RoomEvent.objects.filter(pk=bad.pk).update(text="a\ufffeb\uffffc\x01d\x1fe")
    alice.username = "al\ufffeice"
    alice.save(update_fields=["username"])
    document = streamed(client.get("/rooms/lobby/danmaku.xml"))
    root = ElementTree.fromstring(document)
    texts = [d.text for d in root.iter("d")]
    assert texts == ["fine", "abcde"]
    assert all(d.attrib["p"].split(",")[6] == "alice" for d in root.iter("d"))
