"""Which language a person is answered in: the language their account chose, else the
`language` cookie (the switcher's), else their browser's Accept-Language, else English.

Pages get it from LanguageMiddleware (chat/web/language.py); WebSocket, SSE and long-poll
connections from their ASGI scope, once per connection (chat/transports/language.py).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import language_code_re, parse_accept_lang_header

from chat.models import AccountSettings
from chat.types import AnyUser


def supported(code: object) -> str | None:
    """`code` if it is one of LANGUAGES (in its listed form), else None."""
    if not isinstance(code, str):
        return None
    lowered = code.lower()
    return next((listed for listed, _name in settings.LANGUAGES if listed == lowered), None)


def saved_language(user: AnyUser | None) -> str | None:
    """The language a signed-in user chose, if any (one indexed read)."""
    if user is None or not user.is_authenticated:
        return None
    stored = AccountSettings.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return supported(stored)


def browser_language(cookie: str | None, accept_language: str | None) -> str:
    """The language the `language` cookie names (if it is one of LANGUAGES), else the first of
    Accept-Language's that LANGUAGES has (`zh-CN` is `zh-hans`, `ja-JP` is `ja`), else
    LANGUAGE_CODE: Django's LocaleMiddleware's choice, without a request."""
    chosen = supported(cookie)
    if chosen is not None:
        return chosen
    for code, _quality in parse_accept_lang_header(accept_language or "")[:8]:
        if code == "*":
            break
        if not language_code_re.search(code):
            continue
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
