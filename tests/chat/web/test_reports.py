"""Reports: a viewer reports someone else's message with a reason; the review queue lists it
with the count of distinct reporters (a second report by one person counts once); a moderator
dismisses the reports or deletes the message; bad input gets a stable code; a reporter's rate
is bounded; reports never reach the room's log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client, override_settings

from chat.domain.posting import post_message
from chat.models import AuditEntry, Room
from tests.chat.web.test_visible_moderation import as_user

pytestmark = pytest.mark.django_db


def report(client: Client, body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post("/rooms/lobby/report", data=raw, content_type="application/json")


def queue(moderator: Client) -> list[dict[str, Any]]:
    answer = moderator.get("/rooms/lobby/mod/review")
    assert answer.status_code == 200
    reports: list[dict[str, Any]] = answer.json()["reports"]
    return reports


def test_reports_count_each_reporter_once_and_reach_only_moderators(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    dan = get_user_model().objects.create_user("dan", password="pw")
    spam = post_message(owned, bob, "buy cheap watches").event
    other = post_message(owned, bob, "hello all").event
    last_seq = Room.objects.get(pk=owned.pk).last_seq
    assert report(as_user(carol), {"id": spam.pk, "reason": "spam"}).json() == {
        "reported": True,
        "id": spam.pk,
    }
    report(as_user(carol), {"id": spam.pk, "reason": "spam, really"})  # again: still one reporter
    report(as_user(dan), {"id": spam.pk, "reason": "advertising"})
    report(as_user(dan), {"id": other.pk, "reason": "off topic"})
    listed = queue(as_user(alice))
    assert [(r["event"]["id"], r["reporters"]) for r in listed] == [(spam.pk, 2), (other.pk, 1)]
    assert sorted(listed[0]["reasons"]) == ["advertising", "spam, really"]
    assert listed[0]["event"]["text"] == "buy cheap watches"
    assert Room.objects.get(pk=owned.pk).last_seq == last_seq  # not a room event
    assert AuditEntry.objects.filter(action="report").count() == 3  # one per reporter and message
    assert as_user(carol).get("/rooms/lobby/mod/review").json()["code"] == "forbidden"


def test_a_dismissal_or_a_deletion_takes_the_reports_off_the_queue(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    moderator = as_user(alice)
    kept = post_message(owned, bob, "fine actually").event
    doomed = post_message(owned, bob, "really bad").event
    for event in (kept, doomed):
        report(as_user(carol), {"id": event.pk, "reason": "bad"})
    dismissed = moderator.post(
        f"/rooms/lobby/mod/reports/{kept.pk}", data='{"dismiss": true}', content_type="application/json"
    )
    assert dismissed.json() == {"dismissed": 1}
    again = moderator.post(
        f"/rooms/lobby/mod/reports/{kept.pk}", data='{"dismiss": true}', content_type="application/json"
    )
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    assert [r["event"]["id"] for r in queue(moderator)] == [doomed.pk]
    moderator.post(
        "/rooms/lobby/mod/delete", data=json.dumps({"id": doomed.pk}), content_type="application/json"
    )
    assert queue(moderator) == []
    assert AuditEntry.objects.filter(action="dismiss_reports").count() == 1


def test_bad_reports_get_a_stable_code(owned: Room, bob: AbstractBaseUser, carol: AbstractBaseUser) -> None:
    mine = post_message(owned, carol, "my own").event
    theirs = post_message(owned, bob, "theirs").event
    cases = [
        (as_user(None), {"id": theirs.pk, "reason": "x"}, 401, "login_required"),
        (as_user(carol), {"id": mine.pk, "reason": "x"}, 400, "own_message"),
        (as_user(carol), {"id": theirs.pk}, 400, "invalid"),
        (as_user(carol), {"id": theirs.pk, "reason": "   "}, 400, "invalid"),
        (as_user(carol), {"id": theirs.pk, "reason": "x" * 201}, 413, "too_long"),
        (as_user(carol), {"id": "1", "reason": "x"}, 400, "invalid"),
        (as_user(carol), {"id": 999_999, "reason": "x"}, 404, "not_found"),
        (as_user(carol), "[1, 2]", 400, "invalid"),
    ]
    for client, body, status, code in cases:
        answer = report(client, body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
    assert not AuditEntry.objects.filter(action="report").exists()  # none of them counted


@override_settings(CHAT_REPORT_RATE="2/60")
def test_a_reporter_is_rate_limited(owned: Room, bob: AbstractBaseUser, carol: AbstractBaseUser) -> None:
    events = [post_message(owned, bob, f"message {n}").event for n in range(3)]
    answers = [report(as_user(carol), {"id": event.pk, "reason": "spam"}) for event in events]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "rate_limited"
    assert int(answers[2]["Retry-After"]) > 0
