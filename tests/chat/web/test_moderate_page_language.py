"""The moderator's page as the server writes it in the reader's language (its template, and the
words chat/web/moderation.py puts in it): the template's strings, the call's access, the
refusal of a non-moderator, and the figures' own digits."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.models import Room, RoomRole

pytestmark = [pytest.mark.django_db]


def page(user: AbstractBaseUser, language: str) -> tuple[int, str]:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    answer = client.get("/rooms/lobby/moderate")
    return answer.status_code, html.unescape(answer.content.decode())


def test_a_japanese_moderator_reads_the_page_and_the_calls_access_in_japanese(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    RoomRole.objects.create(room=owned, user=bob, role=RoomRole.Role.MODERATOR)
    Room.objects.filter(pk=owned.pk).update(call_access="members")
    status, text = page(bob, "ja")
    assert status == 200
    assert '<html lang="ja"' in text
    assert "ライブフィード" in text
    assert ">追放</button>" in text
    assert "%(" not in text.split('id="i18n-catalog"')[0]  # placeholders filled (the catalog has msgids)
    readonly = "通話に参加できるのはルームのメンバーです。"
    assert readonly + "参加できる人を変えられるのはルームのオーナーだけです。" in text
    assert "直近 1,000 件のメッセージで試す" in text
    assert '<span dir="auto">bob</span> としてログイン中\uff08モデレーター\uff09' in text
    assert "Live feed" not in text


def test_the_owner_reads_it_in_chinese_with_the_links_kept(owned: Room, alice: AbstractBaseUser) -> None:
    status, text = page(alice, "zh-CN,zh;q=0.9")
    assert status == 200
    assert '当前登录\uff1a<span dir="auto">alice</span>\uff08房主\uff09' in text
    assert '房间的<a href="/rooms/lobby/call">通话</a>开放给' in text
    assert "正则表达式写作 <code>/pattern/</code>" in text
    assert "Open the room" not in text


def test_the_refusal_of_a_non_moderator_is_in_their_language(owned: Room, bob: AbstractBaseUser) -> None:
    status, text = page(bob, "ja")
    assert status == 403
    assert "このページはルームのモデレーターだけが開けます。" in text
