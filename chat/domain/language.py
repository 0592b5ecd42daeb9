"""Which language a person is answered in: the language their account chose, else the
`language` cookie (the switcher's), else their browser's Accept-Language, else English.

Pages get it from LanguageMiddleware (chat/web/language.py); WebSocket, SSE and long-poll
connections from their ASGI scope, once per connection (chat/transports/language.py).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language_from_request

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
    """The language the `language` cookie names, else the first of Accept-Language's that
    LANGUAGES has (`zh-CN` is `zh-hans`, `ja-JP` is `ja`), else LANGUAGE_CODE, in its LANGUAGES
    form: Django's own choice for LocaleMiddleware (`get_language_from_request`), made from the
    two headers where there is no request (an ASGI scope, a request Twisted has not handed on)."""
    request = HttpRequest()
    if cookie is not None:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie
    if accept_language:
        request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return supported(get_language_from_request(request)) or settings.LANGUAGE_CODE
