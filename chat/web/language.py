"""The interface's language: a signed-in user's choice, else the browser's, else English.

Django's `LocaleMiddleware` picks the language cookie (which the switcher sets), then
Accept-Language. `LanguageMiddleware` puts a signed-in user's saved choice ahead of both, so the
choice follows the account to another browser (chat/domain/language.py makes the same choice
for a WebSocket, SSE or long-poll connection). `set_language` is the switcher's form target: it
remembers the choice in the cookie, and on the account when someone is signed in.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.html import json_script
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation.trans_real import DjangoTranslation
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import JavaScriptCatalog

from chat.domain.language import saved_language as saved_language_of
from chat.domain.language import supported
from chat.models import AccountSettings


def saved_language(request: HttpRequest) -> str | None:
    """The language the signed-in user chose, if any (one indexed read)."""
    return saved_language_of(getattr(request, "user", None))


class LanguageMiddleware(LocaleMiddleware):
    """Django's, with a signed-in user's saved language ahead of the cookie and Accept-Language."""

    def process_request(self, request: HttpRequest) -> None:
        language = saved_language(request)
        if language is None:
            super().process_request(request)
            return
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The switcher's form: `language` from LANGUAGES, back to `next` (this site's only). Kept in
    the language cookie, and on the account of a signed-in user."""
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    language = supported(request.POST.get("language"))
    if language is None:
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=False,  # the overlay's options page reads it to build its URL
    )
    if request.user.is_authenticated:
        AccountSettings.objects.update_or_create(user_id=request.user.pk, defaults={"language": language})
    return response


@lru_cache(maxsize=len(settings.LANGUAGES) + 1)
def browser_catalog(language: str) -> dict[str, Any]:
    """The browser client's strings in `language` (the `djangojs` domain: static/js's `gettext`
    calls, in the project's locale/): `{"catalog": {msgid: translation}, "plural": expression}`,
    as Django's JavaScriptCatalog builds them."""
    view = JavaScriptCatalog(domain="djangojs")
    locale_dirs = [str(path) for path in settings.LOCALE_PATHS]  # not the admin's own scripts'
    view.translation = DjangoTranslation(language, domain="djangojs", localedirs=locale_dirs)
    return {"catalog": view.get_catalog(), "plural": view.get_plural()}


def page_catalog() -> str:
    """`browser_catalog` of the active language, as a page embeds it (static/js/core/i18n.js
    reads it): a `<script type="application/json">`, escaped for HTML."""
    return json_script(browser_catalog(translation.get_language() or settings.LANGUAGE_CODE), "i18n-catalog")


@require_safe
def catalog(request: HttpRequest) -> HttpResponse:
    """`GET /i18n/catalog.json[?language=ja]`: the browser client's strings, in the request's
    language or the one asked for (a page of another site, the overlay in OBS)."""
    language = supported(request.GET.get("language")) or translation.get_language() or settings.LANGUAGE_CODE
    response = JsonResponse(browser_catalog(language), json_dumps_params={"ensure_ascii": False})
    response["Content-Language"] = language
    response["Cache-Control"] = "public, max-age=300"
    return response
