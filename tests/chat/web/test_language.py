"""The interface's language (chat/web/language.py): the account's choice, then the browser's
cookie, then Accept-Language; the switcher that keeps it; the browser client's catalog."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.models import AccountSettings

pytestmark = pytest.mark.django_db


def page_language(client: Client, **headers: str) -> tuple[str, str]:
    """The home page's <html lang> and its "Log in"/"Log out" link text."""
    body = client.get("/", headers=headers).content.decode()
    lang = re.search(r'<html lang="([^"]+)"', body)
    assert lang is not None
    return lang.group(1), body


def test_accept_language_picks_chinese_or_japanese_and_anything_else_is_english(client: Client) -> None:
    lang, body = page_language(client, accept_language="ja,en;q=0.5")
    assert lang == "ja"
    assert ">ログイン</a>" in body
    lang, body = page_language(client, accept_language="zh-CN,zh;q=0.9")
    assert lang == "zh-hans"
    assert ">登录</a>" in body
    lang, body = page_language(client, accept_language="fr-FR")
    assert lang == "en"
    assert ">Log in</a>" in body


def test_the_switcher_keeps_the_choice_in_a_cookie_ahead_of_accept_language(client: Client) -> None:
    answer = client.post("/i18n/language", {"language": "zh-hans", "next": "/rooms/new"})
    assert answer.status_code == 302
    assert answer["Location"] == "/rooms/new"
    cookie = answer.cookies["language"]
    assert cookie.value == "zh-hans"
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 300 * 24 * 3600
    lang, _ = page_language(client, accept_language="ja")
    assert lang == "zh-hans"


def test_the_switcher_refuses_other_languages_and_other_sites(client: Client) -> None:
    answer = client.post("/i18n/language", {"language": "fr", "next": "/"})
    assert answer.status_code == 302
    assert "language" not in answer.cookies
    answer = client.post("/i18n/language", {"language": "ja", "next": "https://evil.example/"})
    assert answer["Location"] == "/"
    assert client.get("/i18n/language").status_code == 405


def test_a_signed_in_users_choice_follows_the_account_to_another_browser(
    client: Client, alice: AbstractBaseUser
) -> None:
    client.force_login(alice)
    client.post("/i18n/language", {"language": "ja", "next": "/"})
    assert AccountSettings.objects.get(user=alice).language == "ja"
    other = Client()  # no cookie, and a browser that asks for Chinese
    other.force_login(alice)
    lang, body = page_language(other, accept_language="zh-CN")
    assert lang == "ja"
    assert ">ログアウト</button>" in body
    other.cookies["language"] = "zh-hans"  # the account's choice comes first
    assert page_language(other)[0] == "ja"
    AccountSettings.objects.filter(user=alice).update(language="xx")  # not a language we have
    assert page_language(other)[0] == "zh-hans"


def test_every_page_has_the_switcher_and_embeds_the_browser_clients_catalog(client: Client) -> None:
    body = client.get("/", headers={"accept_language": "ja"}).content.decode()
    assert 'data-testid="language-picker"' in body
    for code, name in (("en", "English"), ("zh-hans", "简体中文"), ("ja", "日本語")):
        assert f'<option value="{code}" lang="{code}"' in body
        assert name in body
    embedded = re.search(r'<script id="i18n-catalog" type="application/json">(.*?)</script>', body, re.S)
    assert embedded is not None
    data = json.loads(embedded.group(1))
    assert data["catalog"]["Reconnecting…"] == "再接続しています…"
    assert data["plural"] == "0"


def test_the_catalog_is_served_per_language(client: Client) -> None:
    answer = client.get("/i18n/catalog.json?language=zh-hans")
    assert answer.status_code == 200
    assert answer["Content-Language"] == "zh-hans"
    assert answer.json()["catalog"]["Offline"] == "离线"
    english = client.get("/i18n/catalog.json", headers={"accept_language": "en"}).json()
    assert english["catalog"] == {}
    japanese = client.get("/i18n/catalog.json", headers={"accept_language": "ja"}).json()
    assert japanese["catalog"]["Offline"] == "オフライン"


def test_pages_and_error_texts_follow_the_language(client: Client) -> None:
    from chat.models import Room

    Room.objects.create(slug="news", title="News")
    body = client.get("/", headers={"accept_language": "ja"}).content.decode()
    assert "<h1>ルーム</h1>" in body
    assert "0 件のメッセージ" in body
    missing = client.get("/rooms/nowhere/", headers={"accept_language": "zh-hans"}).content.decode()
    assert "没有名为 <code>nowhere</code> 的房间。" in missing
    refused = client.get(
        "/no/such/page", headers={"accept_language": "zh-hans", "accept": "application/json"}
    )
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"  # the stable code never changes
    assert refused.json()["message"] == "此地址下没有任何内容。"


def test_the_extractor_reads_jinja_calls_with_variables_plurals_and_blocks() -> None:
    from chat.management.commands.makemessages import jinja_messages_as_python

    source = (
        '<h1>{{ _("Rooms") }}</h1>\n'
        '<p>{{ _("Hello %(name)s", name=user) }}</p>\n'
        '{{ ngettext("%(num)s message", "%(num)s messages", n) }}\n'
        "{% trans %}A block{% endtrans %} {{ pgettext('menu', 'Open') }}\n"
    )
    lines = jinja_messages_as_python(source).splitlines()
    assert lines[0] == 'gettext("Rooms")'
    assert lines[1] == 'gettext("Hello %(name)s")'
    assert lines[2] == 'ngettext("%(num)s message", "%(num)s messages", 0)'
    assert lines[3] == 'gettext("A block"); pgettext("menu", "Open")'


def test_csrf_refusals_are_in_the_readers_language(client: Client, django_user_model: type) -> None:
    """Django's reason for a refused CSRF check, and the page a form gets, in Japanese."""
    user = django_user_model.objects.create_user("csrfja", password="pw-unused-1")
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(user)
    answer = guarded.put(
        "/danmaku/settings", data="{}", content_type="application/json", headers={"accept_language": "ja"}
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf_failed"
    assert answer.json()["message"] == "CSRF チェックに失敗しました: CSRF クッキーがありません。"
    page = guarded.post("/rooms/new", {"slug": "x"}, headers={"accept_language": "ja"})
    assert page.status_code == 403
    assert "フォームの有効期限が切れたか、別のサイトから送信されました。" in page.content.decode()
