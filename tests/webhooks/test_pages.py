"""The webhooks page: the owner registers endpoints, moderators see them and the delivery log
and redeliver; the moderator's page links to it and says when the server turned one off."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.models import AuditEntry, Room, RoomRole
from webhooks.delivery import attempt_delivery
from webhooks.models import Delivery, Endpoint
from webhooks.registration import add_endpoint

from .helpers import only_delivery, post, queued_attempt
from .receiver import Answer, Receiver

pytestmark = pytest.mark.django_db
PAGE = "/rooms/lobby/webhooks"


def as_user(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def moderator(owned: Room, bob: AbstractBaseUser) -> AbstractBaseUser:
    RoomRole.objects.create(room=owned, user=bob, role=RoomRole.Role.MODERATOR)
    return bob


def test_the_owner_adds_an_endpoint_and_sees_its_secret_once(
    owned: Room, alice: AbstractBaseUser, receiver: Receiver
) -> None:
    client = as_user(alice)
    answer = client.post(PAGE, {"action": "add", "url": receiver.url, "events": ["message", "delete"]})
    assert answer.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["delete", "message"]
    assert f'data-testid="webhook-secret">{endpoint.secret}<' in answer.content.decode()
    assert AuditEntry.objects.filter(room=owned, action="webhook_added").count() == 1
    page = client.get(PAGE).content.decode()
    assert receiver.url in page
    assert endpoint.secret not in page  # shown once


def test_bad_input_is_refused_with_a_code_and_the_form_kept(owned: Room, alice: AbstractBaseUser) -> None:
    answer = as_user(alice).post(PAGE, {"action": "add", "url": "ftp://example.com/x", "events": ["message"]})
    assert answer.status_code == 400
    assert 'data-code="bad_url"' in answer.content.decode()
    assert 'value="ftp://example.com/x"' in answer.content.decode()
    answer = as_user(alice).post(PAGE, {"action": "remove", "endpoint": "12345678901234567890123"})
    assert answer.status_code == 404
    answer = as_user(alice).post(PAGE, {"action": "explode"})
    assert answer.status_code == 400
    assert 'data-code="bad_action"' in answer.content.decode()
    assert Endpoint.objects.count() == 0


def test_moderators_see_the_log_and_redeliver_but_do_not_change_endpoints(
    owned: Room, moderator: AbstractBaseUser, receiver: Receiver
) -> None:
    add_endpoint(owned, receiver.url, "message")
    post(owned, "logged")
    delivery = only_delivery()
    attempt_delivery(delivery.pk, 0)
    client = as_user(moderator)
    page = client.get(PAGE).content.decode()
    assert delivery.message_id in page
    assert re.search(r"200, \d+ ms", page)
    assert 'name="action" value="add"' not in page
    answer = client.post(PAGE, {"action": "redeliver", "delivery": str(delivery.pk)})
    assert answer.status_code == 302
    queued_attempt(delivery.pk, 1)
    answer = client.post(PAGE, {"action": "add", "url": receiver.url, "events": ["message"]})
    assert answer.status_code == 403
    assert 'data-code="owner_only"' in answer.content.decode()


def test_only_moderators_open_the_page(owned: Room, carol: AbstractBaseUser) -> None:
    assert as_user(carol).get(PAGE).status_code == 403
    assert as_user(None).get(PAGE).status_code == 302
    assert as_user(carol).post(PAGE, {"action": "add", "url": "http://x.example/"}).status_code == 403


def test_a_delivery_of_another_room_cannot_be_redelivered(
    owned: Room, alice: AbstractBaseUser, receiver: Receiver
) -> None:
    other = Room.objects.create(slug="other", title="Other")
    add_endpoint(other, receiver.url, "message")
    post(other, "theirs")
    answer = as_user(alice).post(PAGE, {"action": "redeliver", "delivery": str(only_delivery().pk)})
    assert answer.status_code == 404


def test_the_moderators_page_tells_of_an_endpoint_the_server_turned_off(
    owned: Room, moderator: AbstractBaseUser
) -> None:
    with Receiver([Answer(410)]).running() as receiver:
        add_endpoint(owned, receiver.url, "message")
        post(owned, "gone?")
        attempt_delivery(Delivery.objects.get().pk, 0)
    page = as_user(moderator).get("/rooms/lobby/moderate").content.decode()
    assert 'data-testid="webhooks-link"' in page
    notice = re.search(r'data-testid="page-notice"[^>]*>([^<]*)<', page)
    assert notice is not None
    assert receiver.url in notice.group(1)
    assert "410 Gone" in notice.group(1)


def test_the_admin_lists_endpoints_without_their_secrets(owned: Room, receiver: Receiver) -> None:
    staff = get_user_model().objects.create_superuser("root", password="pw-root-123")
    endpoint = add_endpoint(owned, receiver.url, "message")
    post(owned, "seen by staff")
    client = as_user(staff)
    listing = client.get("/admin/webhooks/endpoint/")
    assert listing.status_code == 200
    assert receiver.url in listing.content.decode()
    change = client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in change
    assert client.get(f"/admin/webhooks/delivery/{only_delivery().pk}/change/").status_code == 200


def test_the_page_its_states_and_the_moderators_notice_are_in_japanese(
    owned: Room, alice: AbstractBaseUser
) -> None:
    off = Endpoint.objects.create(
        room=owned,
        url="https://hooks.example/off",
        events=["message"],
        secret="whsec_x",
        enabled=False,
        disabled_reason="owner",
    )
    Endpoint.objects.create(
        room=owned,
        url="https://hooks.example/gone",
        events=["message"],
        secret="whsec_y",
        enabled=False,
        disabled_reason="gone",
    )
    delivery = Delivery.objects.create(
        endpoint=off, seq=1, kind="message", message_id="msg_ja", payload="{}", state="failed", attempts=1
    )
    delivery.attempt_log.create(number=1, status=500, latency_ms=1234)
    client = as_user(alice)
    client.cookies["language"] = "ja"
    page = client.get(PAGE).content.decode()
    assert "<h1>Lobby の Webhook</h1>" in page.replace("<bdi>", "").replace("</bdi>", "")
    assert "<h2>配信ログ</h2>" in page
    assert "オフ：オーナーがオフにしました" in page  # noqa: RUF001
    assert "<td>失敗</td>" in page.replace("\n", "")  # the delivery's state
    assert "：500、1,234 ミリ秒</li>" in page  # noqa: RUF001  (the attempt: its time, status, latency)
    assert "> 弾幕コメント <code>danmaku</code></label>" in page  # an event kind to choose, named
    assert ">再配信</button>" in page
    assert ">エンドポイントを追加</button>" in page
    assert "Delivery log" not in page
    moderate = client.get("/rooms/lobby/moderate").content.decode()
    stranger = Client()
    stranger.cookies["language"] = "ja"
    stranger.force_login(get_user_model().objects.create_user("dave", password="pw-dave-123"))
    refused = stranger.get(PAGE)
    assert refused.status_code == 403
    assert "このページはルームのモデレーターだけが開けます。" in refused.content.decode()
    notice = "Webhook https://hooks.example/gone はオフになりました：受信側が 410 Gone を返しました。"  # noqa: RUF001
    assert notice in moderate
