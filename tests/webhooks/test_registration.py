"""Registering endpoints: from the shell, with bad input refused by code; the fan-out's cursor."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from chat.domain.eventlog import append_event
from chat.models import EventKind, Room
from webhooks.errors import WebhookError
from webhooks.fanout import fan_out_room, rooms_behind
from webhooks.models import Delivery, Endpoint
from webhooks.registration import ENDPOINTS_PER_ROOM_MAX, add_endpoint, parse_kinds, set_enabled
from webhooks.runner import notices

from .helpers import post, queued
from .receiver import Receiver

pytestmark = pytest.mark.django_db


def test_addwebhook_prints_the_secret_on_its_last_line(lobby: Room, receiver: Receiver) -> None:
    out = StringIO()
    call_command("addwebhook", "lobby", receiver.url, "--events", "message,danmaku,delete", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    endpoint = Endpoint.objects.get()
    assert last == endpoint.secret
    assert last.startswith("whsec_")
    assert endpoint.events == ["danmaku", "delete", "message"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["nowhere", "http://127.0.0.1:9/"], "room_not_found"),
        (["lobby", "http://127.0.0.1:9/", "--events", "message,shout"], "bad_events"),
        (["lobby", "http://127.0.0.1:9/", "--events", ","], "bad_events"),
        (["lobby", "gopher://127.0.0.1/"], "bad_url"),
    ],
)
def test_addwebhook_refuses_bad_input_with_a_code(lobby: Room, args: list[str], code: str) -> None:
    with pytest.raises(CommandError, match=f"^{code}: "):
        call_command("addwebhook", *args, stdout=StringIO())


def test_a_room_has_a_bounded_number_of_endpoints(lobby: Room) -> None:
    for n in range(ENDPOINTS_PER_ROOM_MAX):
        add_endpoint(lobby, f"http://127.0.0.1:9/{n}", "message")
    with pytest.raises(WebhookError) as refused:
        add_endpoint(lobby, "http://127.0.0.1:9/one-more", "message")
    assert refused.value.code == "too_many_endpoints"


def test_kinds_are_checked() -> None:
    assert parse_kinds(" delete , message,message") == ["delete", "message"]
    with pytest.raises(WebhookError):
        parse_kinds(["message", "nope"])


def test_an_endpoint_gets_the_events_after_it_was_added(lobby: Room) -> None:
    append_event(lobby, EventKind.MESSAGE, text="before")
    endpoint = add_endpoint(lobby, "http://127.0.0.1:9/", "message,delete")
    assert endpoint.cursor == 1
    first = post(lobby, "after")
    post(lobby, "a setting", EventKind.SETTINGS)
    third = post(lobby, "removed", EventKind.DELETE)
    assert list(Delivery.objects.order_by("seq").values_list("seq", "kind")) == [
        (first, "message"),
        (third, "delete"),
    ]
    endpoint.refresh_from_db()
    assert endpoint.cursor == third
    assert fan_out_room(lobby.pk) == 0  # nothing new: nothing twice
    assert rooms_behind() == []


def test_a_full_queue_leaves_events_in_the_log_until_it_drains(lobby: Room, settings: Any) -> None:
    settings.WEBHOOK_QUEUE_MAX = 2
    endpoint = add_endpoint(lobby, "http://127.0.0.1:9/", "message")
    for n in range(5):
        append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
    assert fan_out_room(lobby.pk) == 2
    endpoint.refresh_from_db()
    assert endpoint.cursor == 2
    assert rooms_behind() == [lobby.pk]
    assert len(queued("fan_out")) == 1  # looked at again later
    Delivery.objects.update(state="delivered")
    assert fan_out_room(lobby.pk) == 2
    Delivery.objects.update(state="delivered")
    assert fan_out_room(lobby.pk) == 1
    assert sorted(Delivery.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]


def test_turned_on_again_it_starts_from_the_logs_end(lobby: Room) -> None:
    endpoint = add_endpoint(lobby, "http://127.0.0.1:9/", "message")
    set_enabled(endpoint, False)
    post(lobby, "missed while off")
    set_enabled(endpoint, True)
    post(lobby, "seen")
    assert list(Delivery.objects.values_list("seq", flat=True)) == [2]


@pytest.mark.django_db(transaction=True)
def test_the_room_is_noticed_after_the_commit_not_before(room: Room) -> None:
    notices.active = True
    try:
        with transaction.atomic():
            append_event(room, EventKind.MESSAGE, text="one")
            assert notices.take(timeout=0) == set()
        assert notices.take(timeout=1) == {room.pk}
    finally:
        notices.active = False
