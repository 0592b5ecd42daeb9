"""The account's pages in Japanese: API tokens, the call, creating a room, signing up, and the
admin's list of rooms. Each page's own text, its forms' labels and choices, and their
validation errors follow the language (here the `language` cookie)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.tokens import create_token
from chat.models import Room

pytestmark = pytest.mark.django_db


def japanese(user: AbstractBaseUser | None = None) -> Client:
    client = Client()
    client.cookies["language"] = "ja"
    if user is not None:
        client.force_login(user)
    return client


def test_the_tokens_page_its_form_and_its_list_are_in_japanese(room: Room, alice: AbstractBaseUser) -> None:
    made = create_token(alice, "配信ボット", "read,post", rooms=[room])
    made.token.expires_at = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    made.token.save()
    create_token(alice, "everywhere", "read")
    page = japanese(alice).get("/accounts/tokens/").content.decode()
    assert "<h1>API トークン</h1>" in page
    assert "<h2>新しいトークン</h2>" in page
    assert "トークンを作成</button>" in page
    assert "メッセージとコメントを投稿する" in page  # a scope's choice
    assert '<option value="" selected>無期限</option>' in page  # an expiry's choice
    assert "ルームのアドレスをスペース区切りで（最大" in page  # the help text  # noqa: RUF001
    assert "ルームを読む, メッセージとコメントを投稿する" in page  # the scopes a token has, named
    assert "すべてのルーム" in page  # the other token's rooms
    assert "2030年1月2日3:04 UTC" in page  # its expiry in Japanese's date format, and the zone
    assert "最終使用" in page
    assert "<td>未使用</td>" in page  # never used: a word of its own, not the expiry's "never"
    assert "Create token" not in page
    assert "every room" not in page


def test_the_token_forms_errors_are_in_japanese(alice: AbstractBaseUser) -> None:
    answer = japanese(alice).post("/accounts/tokens/", {"name": "x", "scopes": ["read"], "rooms": "nowhere"})
    assert answer.status_code == 400
    assert "ルーム「nowhere」はありません。" in answer.content.decode()


def test_the_call_page_is_in_japanese(room: Room, alice: AbstractBaseUser) -> None:
    page = japanese(alice).get(f"/rooms/{room.slug}/call").content.decode()
    assert "<title>通話 · Lobby" in page
    assert "通話に参加</button>" in page
    assert "> カメラ</label>" in page
    assert "> マイク</label>" in page
    assert "ルームに戻る</a>" in page
    assert "通話に参加できるのは最大" in page
    assert 'placeholder="メッセージを入力…"' in page
    assert "Join the call" not in page
    assert "A call holds" not in page


def test_the_room_form_its_labels_and_errors_are_in_japanese(room: Room, alice: AbstractBaseUser) -> None:
    client = japanese(alice)
    page = client.get("/rooms/new").content.decode()
    assert '<label for="id_title">タイトル:</label>' in page
    assert '<label for="id_slug">アドレス:</label>' in page
    assert "ルームのリンク /rooms/アドレス/ になります。" in page
    taken = client.post("/rooms/new", {"title": "Again", "slug": room.slug})
    assert taken.status_code == 400
    assert "このアドレスのルームはすでにあります。" in taken.content.decode()
    bad = client.post("/rooms/new", {"title": "Bad", "slug": "Not Valid"})
    assert "半角の小文字・数字・ハイフンを 1〜50 文字で入力してください。" in bad.content.decode()


def test_the_sign_up_forms_errors_are_in_japanese(alice: AbstractBaseUser) -> None:
    password = "a-long-pass-phrase-9"
    answer = japanese().post(
        "/accounts/signup/", {"username": "al\u0456ce", "password1": password, "password2": password}
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "この名前は他の人の名前とよく似ています。別の名前を選んでください。" in page
    assert "looks too much like" not in page


def test_the_admins_list_of_rooms_names_the_model_in_japanese(room: Room) -> None:
    staff = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client = japanese(staff)
    listing = client.get("/admin/chat/room/").content.decode()
    assert "変更する ルーム を選択" in listing  # Django's "Select %s to change", with our name
    assert "Select room to change" not in listing
    assert "オーナー" in listing  # the column of the `owner` field
    index = client.get("/admin/").content.decode()
    assert "API トークン" in index
    assert "Webhook エンドポイント" in index
    assert "ルームの動画" in index
