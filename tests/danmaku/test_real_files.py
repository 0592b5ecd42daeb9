"""Real danmaku files (issue 17): mode 8 skipped as code, files in neither format refused, line
breaks kept in imported comments, the original send time, pool and sender kept, Niconico XML,
and Bilibili's positioned comments (mode 7) stored, sent and exported. Every file is built here."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from chat.domain.wire import event_to_wire
from chat.models import Room, RoomEvent
from danmaku.bilibili import XmlRefused
from danmaku.comments import post_danmaku
from danmaku.imports import import_xml
from danmaku.models import RoomVideo
from danmaku.niconico import COLOURS

pytestmark = pytest.mark.django_db


def bilibili(*comments: tuple[str, str]) -> bytes:
    """A Bilibili document of (p, text) comments; the text is escaped as Bilibili does."""
    body = "".join(f"<d p={quoteattr(p)}>{escape(text)}</d>" for p, text in comments)
    return f'<?xml version="1.0" encoding="UTF-8"?><i><chatid>1</chatid>{body}</i>'.encode()


def niconico(*comments: tuple[dict[str, str], str]) -> bytes:
    body = "".join(
        "<chat"
        + "".join(f" {name}={quoteattr(value)}" for name, value in attrs.items())
        + f">{escape(text)}</chat>"
        for attrs, text in comments
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><packet><thread thread="1"/>{body}</packet>'.encode()


def events(room: Room) -> list[RoomEvent]:
    return list(RoomEvent.objects.filter(room=room, kind="danmaku").order_by("seq"))


def export(client: Client, slug: str = "lobby") -> bytes:
    response = client.get(f"/rooms/{slug}/danmaku.xml")
    assert response.status_code == 200

    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(collect)()


def other_room(slug: str = "copy") -> Room:
    room = Room.objects.create(slug=slug, title=slug)
    RoomVideo.objects.create(room=room, url="https://videos.example/a.mp4", duration_ms=600_000)
    return room


# Mode 8 and unknown formats


def test_code_comments_are_skipped_under_their_own_reason(recorded: RoomVideo) -> None:
    document = bilibili(
        ("1,8,25,0,1700000000,2,abc,1", "Player.seek(0);"),
        ("2,9,25,0", "an unknown mode"),
        ("3,1,25,0", "kept"),
    )
    report = import_xml(recorded.room, io.BytesIO(document))
    assert (report.imported, dict(report.skipped)) == (1, {"code_comment": 1, "unsupported_mode": 1})
    assert [event.text for event in events(recorded.room)] == ["kept"]


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><html><d p="1,1,25,0">x</d></html>',
        b"<root/>",
        b'{"comments": [{"time": 1, "text": "json, not XML"}]}',
        b"just some text\n",
        b"",
    ],
)
def test_a_file_in_neither_format_is_refused_as_unknown_format(
    recorded: RoomVideo, document: bytes, tmp_path: Path, client: Client, alice: AbstractBaseUser
) -> None:
    with pytest.raises(XmlRefused) as refused:
        import_xml(recorded.room, io.BytesIO(document))
    assert refused.value.code == "unknown_format"
    assert "neither" in str(refused.value)
    path = tmp_path / "comments.xml"
    path.write_bytes(document)
    with pytest.raises(CommandError, match="unknown_format"):
        call_command("import_danmaku", "lobby", str(path))
    recorded.room.owner = alice
    recorded.room.save()
    client.force_login(alice)
    answer = client.post("/rooms/lobby/mod/import", {"file": SimpleUploadedFile("d.xml", document)})
    assert (answer.status_code, answer.json()["code"]) == (400, "unknown_format")
    assert not RoomEvent.objects.exists()


def test_a_broken_file_in_a_known_format_is_still_invalid_xml(recorded: RoomVideo) -> None:
    with pytest.raises(XmlRefused) as refused:
        import_xml(recorded.room, io.BytesIO(b'<i><d p="1,1,25,0">unclosed</i>'))
    assert refused.value.code == "invalid_xml"


# Line breaks


def test_imported_line_breaks_are_kept_count_one_character_and_export_as_bilibili_writes_them(
    client: Client, recorded: RoomVideo
) -> None:
    fits = "a" * 50 + "/n" + "b" * 49  # 101 characters as written, 100 with its line break
    document = bilibili(
        ("1,1,25,0", "two/nlines"),
        ("2,5,25,0", "real\nnewline\r\nand CR LF"),
        ("3,1,25,0", fits),
        ("4,1,25,0", "/n/nends trimmed/n"),
        ("5,1,25,0", "c" * 100 + "/n"),  # trailing break trimmed: 100
        ("6,1,25,0", "d" * 100 + "/ne"),  # 102: too long
    )
    report = import_xml(recorded.room, io.BytesIO(document))
    assert (report.imported, dict(report.skipped)) == (5, {"too_long": 1})
    texts = [event.text for event in events(recorded.room)]
    assert texts == [
        "two\nlines",
        "real\nnewline\nand CR LF",
        fits.replace("/n", "\n"),
        "ends trimmed",
        "c" * 100,
    ]
    assert event_to_wire(events(recorded.room)[0])["text"] == "two\nlines"
    exported = export(client).decode()
    assert ">two/nlines</d>" in exported
    assert ">real/nnewline/nand CR LF</d>" in exported
    assert "\n" not in exported.split("<d ", 1)[1].split("</d>", 1)[0]


def test_live_comments_keep_todays_rule_line_breaks_become_spaces(
    recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    posted = post_danmaku(recorded.room, alice, {"text": "one\ntwo\r\nthree", "video_ms": 10}).event
    assert posted.text == "one two  three"


# Original metadata


def test_the_original_send_time_pool_and_sender_are_kept_sent_and_exported(
    client: Client, recorded: RoomVideo
) -> None:
    document = bilibili(
        ("1.5,1,25,16777215,1300000000,0,8a2f1c3d,11", "normal pool"),
        ("2,4,25,255,1400000000,1,deadbeef,12", "a subtitle"),
        ("3,5,25,255,1500000000,2,D1234,13", "special pool"),
        ("4,1,25,255", "no metadata"),
        ("5,1,25,255,-5,7,bad sender!,14", "metadata out of bounds"),
    )
    assert import_xml(recorded.room, io.BytesIO(document)).imported == 5
    stored = [event.data for event in events(recorded.room)]
    assert [(data.get("sent_at"), data.get("pool"), data.get("sender")) for data in stored] == [
        ("2011-03-13T07:06:40.000Z", 0, "8a2f1c3d"),
        ("2014-05-13T16:53:20.000Z", 1, "deadbeef"),
        ("2017-07-14T02:40:00.000Z", 2, "D1234"),
        (None, None, None),
        (None, None, None),
    ]
    wire = event_to_wire(events(recorded.room)[1])
    assert (wire["sent_at"], wire["pool"], wire["sender"], wire["imported"]) == (
        "2014-05-13T16:53:20.000Z",
        1,
        "deadbeef",
        True,
    )
    assert wire["ts"] != wire["sent_at"]  # ts stays the time of the import
    exported = export(client).decode()
    ids = [event.pk for event in events(recorded.room)]
    assert f'p="1.500,1,25,16777215,1300000000,0,8a2f1c3d,{ids[0]}"' in exported
    assert f'p="2.000,4,25,255,1400000000,1,deadbeef,{ids[1]}"' in exported
    assert f'p="3.000,5,25,255,1500000000,2,D1234,{ids[2]}"' in exported
    imported_at = int(events(recorded.room)[3].created_at.timestamp())
    assert f'p="4.000,1,25,255,{imported_at},0,imported,{ids[3]}"' in exported


# Niconico


def test_niconico_comments_and_each_mail_command(client: Client, recorded: RoomVideo) -> None:
    document = niconico(
        ({"vpos": "150", "mail": "184", "date": "1600000000", "user_id": "abcDEF-123_x"}, "plain"),
        ({"vpos": "200", "mail": "ue"}, "top"),
        ({"vpos": "300", "mail": "shita red big"}, "bottom red big"),
        ({"vpos": "400", "mail": "naka small #12AbEf"}, "scroll small hex"),
        ({"vpos": "500", "mail": "medium device:3DS 184 patissier"}, "medium with unknowns"),
        ({"vpos": "600", "mail": "ue shita"}, "the later wins"),
        ({"vpos": "700"}, "two\nlines"),
        ({"vpos": "800", "mail": "ue"}, "/nicoscript"),
        ({"vpos": "-1"}, "before the start"),
        ({"vpos": "later"}, "no position"),
        ({"vpos": "900", "mail": "big"}, "x" * 101),
    )
    report = import_xml(recorded.room, io.BytesIO(document))
    assert report.format == "niconico"
    assert report.imported == 7
    assert dict(report.skipped) == {"code_comment": 1, "malformed": 2, "too_long": 1}
    assert dict(report.ignored_commands) == {"184": 2, "device": 1, "patissier": 1}
    stored = [
        (event.video_ms, event.data["mode"], event.data["size"], event.data["color"], event.text)
        for event in events(recorded.room)
    ]
    assert stored == [
        (1500, "scroll", "medium", "#ffffff", "plain"),
        (2000, "top", "medium", "#ffffff", "top"),
        (3000, "bottom", "large", "#ff0000", "bottom red big"),
        (4000, "scroll", "small", "#12abef", "scroll small hex"),
        (5000, "scroll", "medium", "#ffffff", "medium with unknowns"),
        (6000, "bottom", "medium", "#ffffff", "the later wins"),
        (7000, "scroll", "medium", "#ffffff", "two\nlines"),
    ]
    first = events(recorded.room)[0].data
    assert (first["sent_at"], first["sender"], "pool" in first) == (
        "2020-09-13T12:26:40.000Z",
        "abcDEF-123_x",
        False,
    )
    # Exported as Bilibili's format, which imports the same comments again.
    copy = other_room()
    again = import_xml(copy, io.BytesIO(export(client)))
    assert (again.format, again.imported, again.skipped_total) == ("bilibili", 7, 0)

    def style(room: Room) -> list[tuple[Any, ...]]:
        return [(e.video_ms, e.text, e.data["mode"], e.data["size"], e.data["color"]) for e in events(room)]

    assert style(copy) == style(recorded.room)
    assert "sender" not in events(copy)[1].data  # "imported" is no sender


@pytest.mark.parametrize(("name", "color"), sorted(COLOURS.items()))
def test_every_niconico_colour_name(recorded: RoomVideo, name: str, color: str) -> None:
    document = niconico(({"vpos": "0", "mail": f"184 {name.upper() if name == 'red' else name}"}, "c"))
    assert import_xml(recorded.room, io.BytesIO(document)).imported == 1
    assert events(recorded.room)[0].data["color"] == color


def test_niconico_by_command_and_by_upload(
    tmp_path: Path, client: Client, recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    document = niconico(({"vpos": "100", "mail": "184 ue"}, "one"), ({"vpos": "200", "mail": "184"}, "two"))
    path = tmp_path / "nico.xml"
    path.write_bytes(document)
    out = io.StringIO()
    call_command("import_danmaku", "lobby", str(path), stdout=out)
    assert "Imported 2 comments" in out.getvalue()
    assert "Ignored commands: 2." in out.getvalue()
    assert "  184: 2" in out.getvalue()
    recorded.room.owner = alice
    recorded.room.save()
    client.force_login(alice)
    answer = client.post("/rooms/lobby/mod/import", {"file": SimpleUploadedFile("n.xml", document)}).json()
    assert (answer["imported"], answer["format"], answer["ignored_commands"]) == (2, "niconico", {"184": 2})
    assert len(events(recorded.room)) == 4


def test_niconico_counts_few_names_of_ignored_commands_whatever_the_file(recorded: RoomVideo) -> None:
    mail = " ".join(f"cmd{n}:{'x' * 100}" for n in range(300))
    report = import_xml(recorded.room, io.BytesIO(niconico(({"vpos": "1", "mail": mail}, "c"))))
    assert report.imported == 1
    assert len(report.ignored_commands) == 51  # 50 names and "other"
    assert report.ignored_commands["other"] == 250
    assert max(len(name) for name in report.ignored_commands) <= 32


# Positioned comments (mode 7)

# Every field: start as fractions, alpha, duration, text with a line break, rotations, motion
# with its duration and delay, stroke, font, linear speed and a path.
FULL = [
    0.25,
    0.75,
    "1-0.5",
    4.5,
    "fan/nart",
    30,
    -45,
    0.5,
    0.1,
    800,
    200,
    "false",
    "SimHei",
    1,
    "M10,20L30,40L50,60",
]


def positioned(payload: Any, p: str = "12.5,7,25,16711680,1500000000,0,cafe0001,9") -> bytes:
    raw = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return bilibili((p, raw))


def test_every_field_of_a_positioned_comment_is_stored_and_sent_structured(
    client: Client, recorded: RoomVideo
) -> None:
    report = import_xml(recorded.room, io.BytesIO(positioned(FULL)))
    assert (report.imported, report.skipped_total) == (1, 0)
    [event] = events(recorded.room)
    assert event.text == "fan\nart"
    assert event.video_ms == 12500
    wire = event_to_wire(event)
    assert wire["mode"] == "positioned"
    assert (wire["color"], wire["size"], wire["sent_at"], wire["sender"]) == (
        "#ff0000",
        "medium",
        "2017-07-14T02:40:00.000Z",
        "cafe0001",
    )
    assert wire["positioned"] == {
        "x": 0.25,
        "y": 0.75,
        "relative": True,
        "alpha": [1, 0.5],
        "duration_ms": 4500,
        "rotate_z": 30,
        "rotate_y": -45,
        "motion": {"x": 0.5, "y": 0.1, "duration_ms": 800, "delay_ms": 200},
        "stroke": False,
        "font": "SimHei",
        "linear": True,
        "path": [[10, 20], [30, 40], [50, 60]],
    }
    assert "[" not in wire["text"]  # the text, never the raw payload
    exported = export(client).decode()
    [line] = [line for line in exported.splitlines() if line.startswith("<d ")]
    assert line.startswith(f'<d p="12.500,7,25,16711680,1500000000,0,cafe0001,{event.pk}">')
    payload = json.loads(line.split(">", 1)[1].rsplit("</d>", 1)[0].replace("&amp;", "&"))
    assert payload == FULL


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([100, 200, "1-1", 3, "absolute"], {"x": 100, "y": 200, "relative": False}),
        (["0.5", "0.5", "0.8-0", "2.5", "strings", "90", "0"], {"x": 0.5, "rotate_z": 90, "rotate_y": 0}),
        (
            [0, 0, "1-1", 1, "no motion timing", 0, 0, 300, 400, "", ""],
            {"motion": {"x": 300, "y": 400, "duration_ms": None, "delay_ms": None}},
        ),
        (
            [0, 0, 1, 1, "one alpha", 0, 0, 0, 0, 0, 0, "true", "Arial"],
            {"alpha": [1, 1], "stroke": True, "font": "Arial"},
        ),
        (
            [0, 0, "1-1", 1, "linear off", 0, 0, 0, 0, 0, 0, "true", "", 0, ""],
            {"linear": False, "path": None},
        ),
    ],
)
def test_positioned_payloads_of_every_length(
    recorded: RoomVideo, client: Client, payload: list[Any], expected: dict[str, Any]
) -> None:
    report = import_xml(recorded.room, io.BytesIO(positioned(payload)))
    assert report.imported == 1, report.skipped
    [event] = events(recorded.room)
    assert expected.items() <= event.data["positioned"].items()
    copy = other_room()
    import_xml(copy, io.BytesIO(export(client)))
    assert [(e.text, e.data["positioned"]) for e in events(copy)] == [(event.text, event.data["positioned"])]


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[0, 0, ",
        json.dumps({"x": 0}),
        json.dumps([0, 0, "1-1", 1]),  # no text
        json.dumps([0, 0, "1-1", 1, 5]),  # text not a string
        json.dumps([0, 0, "1-1", 0, "no duration"]),
        json.dumps([0, 0, "1-1", 61, "too long on screen"]),
        json.dumps([1e9, 0, "1-1", 1, "far away"]),
        json.dumps([0, "nan", "1-1", 1, "not a number"]),
        json.dumps([True, 0, "1-1", 1, "boolean"]),
        json.dumps([0, 0, "2-0", 1, "alpha over 1"]),
        json.dumps([0, 0, "1-0-1", 1, "three alphas"]),
        json.dumps([0, 0, "1-1", 1, "rotation", 99999]),
        json.dumps([0, 0, "1-1", 1, "motion cut short", 0, 0, 10]),
        json.dumps([0, 0, "1-1", 1, "motion too slow", 0, 0, 10, 10, 60001, 0]),
        json.dumps([0, 0, "1-1", 1, "bad stroke", 0, 0, 10, 10, 0, 0, "maybe"]),
        json.dumps([0, 0, "1-1", 1, "font", 0, 0, 10, 10, 0, 0, "true", "x" * 65]),
        json.dumps([0, 0, "1-1", 1, "path", 0, 0, 10, 10, 0, 0, "true", "", 1, "L1,1"]),
        json.dumps([0, 0, "1-1", 1, "path", 0, 0, 10, 10, 0, 0, "true", "", 1, "M1,1 rm -rf"]),
        json.dumps([0, 0, "1-1", 1, "path", 0, 0, 10, 10, 0, 0, "true", "", 1, "M1,1" + "L2,2" * 200]),
        json.dumps([0, 0, "1-1", 1, "too many", 0, 0, 0, 0, 0, 0, "true", "", 1, "", "extra"]),
        "[" * 100_000,
        "[" * 5_000 + "]" * 5_000,
        "[" + "9" * 400 + ', 0, "1-1", 1, "a huge whole number"]',
        json.dumps([0, 0, "1-1", "1e400", "an infinite string"]),
    ],
)
def test_bad_positioned_payloads_are_skipped_as_malformed(recorded: RoomVideo, payload: str) -> None:
    report = import_xml(recorded.room, io.BytesIO(positioned(payload)))
    assert (report.imported, dict(report.skipped)) == (0, {"malformed": 1})


def test_positioned_text_limits(recorded: RoomVideo) -> None:
    long_art = "/n".join(["█" * 30] * 32)  # 991 characters with its breaks
    document = bilibili(
        ("1,7,25,0", json.dumps([0, 0, "1-1", 1, long_art], ensure_ascii=False)),
        ("2,7,25,0", json.dumps([0, 0, "1-1", 1, "x" * 1001])),
        ("3,7,25,0", json.dumps([0, 0, "1-1", 1, "  /n "])),
    )
    report = import_xml(recorded.room, io.BytesIO(document))
    assert (report.imported, dict(report.skipped)) == (1, {"too_long": 1, "empty": 1})
    assert events(recorded.room)[0].text.count("\n") == 31


def test_dplayer_leaves_positioned_comments_out(client: Client, recorded: RoomVideo) -> None:
    document = bilibili(("1,1,25,0", "scrolls"), ("2,7,25,0", json.dumps(FULL)))
    assert import_xml(recorded.room, io.BytesIO(document)).imported == 2
    data = client.get("/dplayer/v3/?id=lobby").json()["data"]
    assert [row[4] for row in data] == ["scrolls"]
    window = client.get("/rooms/lobby/danmaku").json()["events"]
    assert [event["mode"] for event in window] == ["scroll", "positioned"]


def test_import_export_import_round_trip_is_unchanged(client: Client, recorded: RoomVideo) -> None:
    document = bilibili(
        ("0.5,1,25,16777215,1300000000,0,aaaa0001,1", "scroll/nwith a break"),
        ("1.25,4,18,255,1300000001,1,aaaa0002,2", "subtitle"),
        ("2,5,36,65280,1300000002,2,aaaa0003,3", "special & <b>"),
        ("3,6,25,0,1300000003,0,aaaa0004,4", "reverse"),
        ("4,7,25,16711680,1300000004,0,aaaa0005,5", json.dumps(FULL)),
        ("5,7,36,255,1300000005,2,aaaa0006,6", json.dumps([640, 360, "0-1", 2, "abs", 0, 0, 10, 20, 500, 0])),
        ("6,8,25,0", "code"),
    )
    first = import_xml(recorded.room, io.BytesIO(document))
    assert (first.imported, dict(first.skipped)) == (6, {"code_comment": 1})
    copy = other_room()
    second = import_xml(copy, io.BytesIO(export(client)))
    assert (second.imported, second.skipped_total) == (6, 0)
    third_room = other_room("third")
    third = import_xml(third_room, io.BytesIO(export(client, "copy")))
    assert third.imported == 6

    def kept(room: Room) -> list[tuple[Any, ...]]:
        return [(e.video_ms, e.text, e.data) for e in events(room)]

    assert kept(copy) == kept(recorded.room) == kept(third_room)

    # And the second export is the first one but for the comments' ids.
    def without_ids(document: bytes) -> list[str]:
        return [re.sub(r',[0-9]+">', '">', line, count=1) for line in document.decode().splitlines()[2:]]

    assert without_ids(export(client)) == without_ids(export(client, "copy"))


def test_a_viewer_cannot_post_a_positioned_comment(recorded: RoomVideo, alice: AbstractBaseUser) -> None:
    from chat.errors import ChatError

    # Only the room's owner and moderators may (tests/danmaku/test_positioned_posting.py).
    with pytest.raises(ChatError) as refused:
        post_danmaku(recorded.room, alice, {"text": "x", "mode": "positioned", "video_ms": 1})
    assert refused.value.code == "positioned_forbidden"
