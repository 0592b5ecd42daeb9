"""Errors on the wire follow each connection's language (docs/PROTOCOL.md): the account's choice,
then the `language` cookie, then Accept-Language, as pages do; `code` never changes."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext_lazy
from twisted.web.http_headers import Headers

from chat.errors import rate_limited, room_not_found
from chat.guards.bodies import BodyRule
from chat.models import AccountSettings, Room
from chat.realtime.hub import Hub
from chat.transports.bounded import too_large_response
from chat.transports.headers import request_timeout_response
from config.asgi import application
from tests.chat.asgi_clients import HOST, ORIGIN, WebSocketClient, asgi_get, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]

UNKNOWN_TYPE = {"type": "bogus"}


async def connect(
    user: AbstractBaseUser | None = None,
    *,
    accept_language: str | None = None,
    cookie: str = "",
    path: str = "/ws/rooms/lobby/",
) -> WebSocketClient:
    """A WebSocket to `path` with these headers (the session's cookie and `cookie` in one)."""
    cookies = [cookie] if cookie else []
    session = await database_sync_to_async(session_cookie)(user)
    if session:
        cookies.insert(0, session[0][1].decode())
    headers = [HOST, ORIGIN]
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    if accept_language is not None:
        headers.append((b"accept-language", accept_language.encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    return WebSocketClient(comm)


async def refusal(client: WebSocketClient, frame: dict[str, Any]) -> dict[str, Any]:
    await client.next_frame("hello")
    answer = await client.send(frame)
    await client.disconnect()
    assert answer["type"] == "error"
    return answer


async def test_a_websocket_error_is_in_the_browsers_language_with_the_same_code(hub: Hub, room: Room) -> None:
    english = await refusal(await connect(), UNKNOWN_TYPE)
    japanese = await refusal(await connect(accept_language="ja,en;q=0.5"), UNKNOWN_TYPE)
    assert english["code"] == japanese["code"] == "unknown_type"
    assert english["message"].startswith("type must be one of: ")
    assert japanese["message"].startswith("type は次のいずれかにしてください: ")
    # The values in the message are the same, only the words around them change.
    assert english["message"].removeprefix("type must be one of: ").removesuffix(".") == japanese[
        "message"
    ].removeprefix("type は次のいずれかにしてください: ").removesuffix("。")


async def test_the_language_cookie_wins_over_accept_language(hub: Hub, room: Room) -> None:
    answer = await refusal(
        await connect(accept_language="ja", cookie="language=zh-hans"), {"type": "message", "text": "hi"}
    )
    assert (answer["code"], answer["message"]) == ("login_required", "登录后才能在此房间发言。")


async def test_the_accounts_language_wins_over_the_cookie_and_accept_language(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await database_sync_to_async(AccountSettings.objects.create)(user=alice, language="ja")
    client = await connect(alice, accept_language="en", cookie="language=zh-hans")
    answer = await refusal(client, {"type": "message", "text": "   "})
    assert (answer["code"], answer["message"]) == ("empty", "メッセージが空です。")
    # Without the account's choice the same connection is answered in the cookie's language.
    await database_sync_to_async(AccountSettings.objects.filter(user=alice).update)(language="")
    client = await connect(alice, accept_language="en", cookie="language=zh-hans")
    answer = await refusal(client, {"type": "message", "text": "   "})
    assert (answer["code"], answer["message"]) == ("empty", "消息为空。")


async def test_a_refused_websocket_says_why_in_the_browsers_language(hub: Hub, room: Room) -> None:
    client = await connect(accept_language="zh-CN,zh;q=0.9", path="/ws/rooms/lobby/?after=x")
    frame = await client.next_frame("error")  # then closed with 4400
    assert frame["code"] == "invalid"
    assert frame["message"] == "after 必须是整数。"


async def test_an_sse_refusal_is_in_the_browsers_language(hub: Hub, room: Room) -> None:
    await database_sync_to_async(Room.objects.filter(pk=room.pk).update)(private=True)
    status, _, body = await asgi_get("/rooms/lobby/events", [(b"accept-language", b"ja")])
    assert (status, body["code"]) == (403, "private_room")
    assert body["message"] == "このルームは非公開です。メンバーだけが入れます。"


async def test_long_poll_refusals_are_in_the_browsers_language(hub: Hub, room: Room) -> None:
    status, _, body = await asgi_get("/rooms/nowhere/poll", [(b"accept-language", b"ja")])
    assert (status, body["code"], body["message"]) == (
        404,
        "room_not_found",
        "ルーム 'nowhere' はありません。",
    )
    status, _, body = await asgi_get("/rooms/lobby/poll?after=x", [(b"cookie", b"language=ja")])
    assert (status, body["code"]) == (400, "invalid")
    assert body["message"] == "after は整数にしてください。"
    status, _, body = await asgi_get("/rooms/lobby/poll?after=x")
    assert body["message"] == "after must be an integer."


def test_an_api_error_follows_the_pages_language(room: Room, alice: AbstractBaseUser) -> None:
    client = Client()
    client.force_login(alice)
    answer = client.post(
        "/rooms/lobby/messages",
        {"text": ""},
        content_type="application/json",
        headers={"accept-language": "ja"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "empty"
    assert answer.json()["message"] == "メッセージが空です。"


def test_dplayers_errors_follow_the_pages_language(room: Room) -> None:
    answer = Client().get("/dplayer/v3/", {"id": ""}, headers={"accept-language": "zh-CN"})
    assert answer.json()["error"] == "invalid"
    assert answer.json()["msg"] == "id 必须指定一个房间。"


@translation.override("en")
def test_a_message_is_rendered_in_the_language_active_when_it_is_shown() -> None:
    error = room_not_found("lobby")  # made under English
    with translation.override("ja"):
        assert error.as_frame("n")["message"] == "ルーム 'lobby' はありません。"
        assert error.message == "ルーム 'lobby' はありません。"
    assert error.as_dict() == {"code": "room_not_found", "message": "There is no room 'lobby'."}
    assert str(error) == "There is no room 'lobby'."


@translation.override("en")
def test_a_lazy_value_inside_a_message_is_rendered_too() -> None:
    error = rate_limited(gettext_lazy("Too many reports."), 7)
    with translation.override("zh-hans"):
        assert error.message == "举报过于频繁。请在 7 秒后重试。"
    with translation.override("ja"):
        assert error.as_dict()["message"] == "通報が多すぎます。7 秒後にもう一度お試しください。"
    assert error.message == "Too many reports. Try again in 7 s."
    assert error.extra == {"retry_after": 7}


def test_refusals_before_the_application_follow_the_requests_headers() -> None:
    from chat.transports.language import raw_headers_language

    headers = Headers({b"accept-language": [b"en"], b"cookie": [b"a=1; language=ja"]})
    assert raw_headers_language(headers) == "ja"
    assert raw_headers_language(Headers({b"accept-language": [b"zh-CN"]})) == "zh-hans"
    assert raw_headers_language(None) == "en"
    assert "リクエスト本文は" in too_large_response(BodyRule(), 1024, "ja").decode()
    assert "Request bodies here are limited to" in too_large_response(BodyRule(), 1024).decode()
    assert "请求头未在 10 秒内到达。" in request_timeout_response(10, "zh-hans").decode()


async def test_a_flood_refusal_is_in_the_connections_language(
    hub: Hub, room: Room, bob: AbstractBaseUser
) -> None:
    await database_sync_to_async(Room.objects.filter(pk=room.pk).update)(slow_mode_seconds=30)
    client = await connect(bob, accept_language="ja")
    await client.next_frame("hello")
    assert (await client.send({"type": "message", "text": "first", "nonce": 1}))["type"] == "ack"
    answer = await client.send({"type": "message", "text": "second", "nonce": 2})
    await client.disconnect()
    assert (answer["code"], answer["retry_after"]) == ("slow_mode", 30)
    assert (
        answer["message"]
        == "低速モード中です。投稿は 30 秒に 1 回までです。30 秒後にもう一度お試しください。"
    )


def test_the_overlays_refusal_of_an_option_is_in_the_pages_language(room: Room) -> None:
    answer = Client().get("/rooms/lobby/overlay", {"speed": "fast"}, headers={"accept-language": "ja"})
    assert answer.status_code == 400
    assert "オーバーレイのオプションが正しくありません: " in answer.content.decode()
