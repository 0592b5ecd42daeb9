"""Positioned comments posted live: only a room's owner and moderators (and site staff) may,
with the import's limits; bad fields are refused with `invalid_positioned` naming the field;
what is stored is what an import stores, and the export writes it as mode 7."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.domain.wire import event_to_wire
from chat.errors import ChatError
from chat.models import RoomEvent, RoomRole
from danmaku.comments import post_danmaku
from danmaku.models import RoomVideo
from danmaku.positioned import clean_fields, export_payload, parse_payload
from tests.danmaku.test_real_files import export

pytestmark = pytest.mark.django_db

DRAWING: dict[str, Any] = {
    "x": 0.25,
    "y": 0.5,
    "alpha": [1, 0.2],
    "duration_ms": 4500,
    "motion": {"x": 0.75, "y": 0.1, "duration_ms": 800, "delay_ms": 200},
    "linear": True,
}


def frame(**changes: Any) -> dict[str, Any]:
    fields = {
        "text": "fan\nart",
        "mode": "positioned",
        "color": "#ff0000",
        "size": "large",
        "video_ms": 12_500,
    }
    return {**fields, "positioned": DRAWING, **changes}


@pytest.fixture
def owner(recorded: RoomVideo, alice: AbstractBaseUser) -> AbstractBaseUser:
    recorded.room.owner = alice
    recorded.room.save()
    return alice


def test_a_viewer_is_refused_with_a_stable_code(
    recorded: RoomVideo, owner: AbstractBaseUser, bob: Any
) -> None:
    with pytest.raises(ChatError) as refused:
        post_danmaku(recorded.room, bob, frame())
    assert (refused.value.code, refused.value.status) == ("positioned_forbidden", 403)
    assert not RoomEvent.objects.filter(kind="danmaku").exists()


def test_the_owner_and_a_moderator_post_one_stored_as_an_import_stores_it(
    client: Client, recorded: RoomVideo, owner: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    RoomRole.objects.create(room=recorded.room, user=bob, role=RoomRole.Role.MODERATOR)
    post_danmaku(recorded.room, owner, frame())
    post_danmaku(
        recorded.room, bob, frame(text="by a moderator", positioned={"x": 10, "y": 20, "duration_ms": 1000})
    )
    first, second = RoomEvent.objects.filter(kind="danmaku").order_by("seq")
    wire = event_to_wire(first)
    assert (wire["mode"], wire["text"], wire["color"], wire["size"], wire["video_ms"]) == (
        "positioned",
        "fan\nart",  # a positioned comment keeps its line break
        "#ff0000",
        "large",
        12_500,
    )
    # As a file holding its export would store it: the elements before the last one sent too.
    defaults = {"rotate_z": 0, "rotate_y": 0, "stroke": True, "font": ""}
    assert wire["positioned"] == {**DRAWING, "relative": True, **defaults}
    assert event_to_wire(second)["positioned"] == {
        "x": 10,
        "y": 20,
        "relative": False,
        "alpha": [1, 1],
        "duration_ms": 1000,
    }
    # The export writes them as Bilibili's mode 7, payload and all.
    document = export(client).decode()
    payloads = re.findall(r'<d p="[0-9.]+,7,[^"]*">([^<]*)</d>', document)
    assert [json.loads(payload)[:5] for payload in payloads] == [
        [0.25, 0.5, "1-0.2", 4.5, "fan/nart"],
        [10, 20, "1-1", 1, "by a moderator"],
    ]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"positioned": None}, "invalid_positioned", "positioned.*"),
        ({"positioned": '[0.1,0.1,"1-1",4,"raw"]'}, "invalid_positioned", "positioned.*"),
        ({"positioned": {"x": 0.1, "y": 0.1}}, "invalid_positioned", "positioned.duration_ms"),
        ({"positioned": {**DRAWING, "duration_ms": 60_001}}, "invalid_positioned", "positioned.duration_ms"),
        ({"positioned": {**DRAWING, "duration_ms": 0}}, "invalid_positioned", "positioned.duration_ms"),
        ({"positioned": {**DRAWING, "x": 10_001}}, "invalid_positioned", "positioned.x"),
        ({"positioned": {**DRAWING, "y": "0.5"}}, "invalid_positioned", "positioned.y"),
        ({"positioned": {**DRAWING, "alpha": [1.5, 0]}}, "invalid_positioned", "positioned.alpha"),
        ({"positioned": {**DRAWING, "alpha": 1}}, "invalid_positioned", "positioned.alpha"),
        ({"positioned": {**DRAWING, "rotate_z": float("nan")}}, "invalid_positioned", "positioned.rotate_z"),
        ({"positioned": {**DRAWING, "motion": {"x": 1}}}, "invalid_positioned", "positioned.motion"),
        (
            {"positioned": {**DRAWING, "motion": {"x": 1, "y": 1, "delay_ms": -1}}},
            "invalid_positioned",
            "positioned.motion.delay_ms",
        ),
        ({"positioned": {**DRAWING, "linear": "yes"}}, "invalid_positioned", "positioned.linear"),
        ({"positioned": {**DRAWING, "font": "x" * 65}}, "invalid_positioned", "positioned.font"),
        ({"positioned": {**DRAWING, "path": [[0, 0]]}}, "invalid_positioned", "positioned.path"),
        ({"text": "x" * 1001}, "too_long", None),
        ({"text": " \n "}, "empty", None),
        ({"video_ms": 600_001}, "invalid_video_ms", "video_ms"),
        ({"color": "red"}, "invalid_color", "color"),
    ],
)
def test_bad_fields_are_refused_with_the_field(
    recorded: RoomVideo, owner: AbstractBaseUser, changes: dict[str, Any], code: str, field: str | None
) -> None:
    with pytest.raises(ChatError) as refused:
        post_danmaku(recorded.room, owner, frame(**changes))
    assert (refused.value.code, refused.value.extra.get("field")) == (code, field)
    assert not RoomEvent.objects.filter(kind="danmaku").exists()


def test_a_thousand_characters_are_taken(recorded: RoomVideo, owner: AbstractBaseUser) -> None:
    post_danmaku(recorded.room, owner, frame(text="\u2588" * 999 + "\n"))  # the break at the end is trimmed
    post_danmaku(recorded.room, owner, frame(text="\u2588" * 500 + "\n" + "\u2588" * 499))
    assert [len(event.text) for event in RoomEvent.objects.filter(kind="danmaku").order_by("seq")] == [
        999,
        1000,
    ]


def test_over_http_a_viewer_gets_403_and_the_owner_an_ack(
    client: Client, recorded: RoomVideo, owner: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    client.force_login(bob)
    body = {"type": "danmaku", "nonce": 1, **frame()}
    refused = client.post("/rooms/lobby/messages", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "positioned_forbidden"
    client.force_login(owner)
    taken = client.post("/rooms/lobby/messages", body, content_type="application/json")
    assert taken.status_code == 200, taken.content
    assert taken.json()["type"] == "ack"


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(
    [
        "x",
        "y",
        "alpha",
        "duration_ms",
        "rotate_z",
        "rotate_y",
        "motion",
        "stroke",
        "font",
        "linear",
        "path",
        "z",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        JSON_VALUES,
        st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=8),
        st.builds(lambda extra: {**DRAWING, **extra}, st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=3)),
    )
)
def test_any_positioned_object_is_taken_within_bounds_or_refused_with_the_code(value: Any) -> None:
    refusal: ChatError | None = None
    try:
        fields = clean_fields(value)
    except ChatError as refused:
        refusal = refused
    if refusal is not None:
        assert refusal.code == "invalid_positioned"
        assert str(refusal.extra["field"]).startswith("positioned.")
        return
    # What is taken is what an import of its export stores: export, import, export is unchanged.
    text, parsed = parse_payload(export_payload("x", fields))
    assert text == "x"
    assert parsed == fields
