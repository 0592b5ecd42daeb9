"""The language a connection's errors are written in (docs/PROTOCOL.md: `message` follows it,
`code` never changes): as a page's, from the account's choice, the `language` cookie, then
Accept-Language (chat/domain/language.py). Chosen once per connection, when its first error is
written, so connections that never see one never pay for it."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils import translation

from chat.clients import header
from chat.domain.language import browser_language, saved_language
from chat.domain.wire import dumps
from chat.errors import ChatError
from chat.types import Scope

# Where a scope keeps its connection's language, once chosen; and the cookie's or the
# browser's, noted before a WebSocket is accepted (its headers are dropped once it is open:
# lean_protocol.py).
LANGUAGE_KEY = "chat.language"
BROWSER_LANGUAGE_KEY = "chat.browser_language"


def header_language(scope: Scope) -> str:
    """The language of the `language` cookie or of Accept-Language (no account is looked at)."""
    noted = scope.get(BROWSER_LANGUAGE_KEY)
    if noted is not None:
        return str(noted)
    cookies = scope.get("cookies")
    if cookies is None:
        raw = header(scope, b"cookie")
        cookies = parse_cookie(raw) if raw else {}
    return browser_language(cookies.get(settings.LANGUAGE_COOKIE_NAME), header(scope, b"accept-language"))


def raw_headers_language(headers: Any) -> str:
    """The language of the cookie or Accept-Language in Twisted's `Headers` of a request not
    yet handed to the application (a refusal of its body or of its slowness); without headers,
    LANGUAGE_CODE."""
    if headers is None:
        return settings.LANGUAGE_CODE
    cookies = headers.getRawHeaders(b"cookie") or []
    accept = headers.getRawHeaders(b"accept-language") or []
    cookie = parse_cookie(cookies[0].decode("latin-1")) if cookies else {}
    return browser_language(
        cookie.get(settings.LANGUAGE_COOKIE_NAME), accept[0].decode("latin-1") if accept else None
    )


def note_browser_language(scope: Scope) -> None:
    """Keep the cookie's or the browser's language in the scope while its headers are there: a
    WebSocket's are emptied once it is open. The value is one of LANGUAGES' own strings, so an
    idle connection keeps a reference, not a copy."""
    scope[BROWSER_LANGUAGE_KEY] = header_language(scope)


async def connection_language(scope: Scope) -> str:
    """The account's language for a signed-in user (once read, kept in the scope), else the
    cookie's or the browser's. Before the user is known (a refusal ahead of authentication),
    the cookie's or the browser's."""
    chosen = scope.get(LANGUAGE_KEY)
    if chosen is not None:
        return str(chosen)
    if "user" not in scope:
        return header_language(scope)
    user = scope["user"]
    saved = await database_sync_to_async(saved_language)(user) if user.is_authenticated else None
    chosen = scope[LANGUAGE_KEY] = saved or header_language(scope)
    return chosen


def frame_in(language: str, error: ChatError, nonce: Any = None) -> str:
    """`error.as_frame(nonce)` as JSON text, its message in `language`."""
    with translation.override(language):
        return dumps(error.as_frame(nonce))


async def error_text(scope: Scope, error: ChatError, nonce: Any = None) -> str:
    """`error.as_frame(nonce)` as JSON text, its message in the connection's language."""
    return frame_in(await connection_language(scope), error, nonce)
