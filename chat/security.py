"""The Content-Security-Policy of every response, and login throttling against password guessing.

Content-Security-Policy: the pages load their scripts and styles as files from this site (no
inline script, no style attribute), talk only to this site (HTTP and WebSocket), and may not be
framed; only the watch page's video may come from elsewhere (`CSP_MEDIA_SRC`).

Login throttling: failed logins count per username (whatever the address) and per client
address (whatever the username), as GCRA buckets on the shared cache (chat/ratelimit.py), so all
processes share them on Redis. Once a bucket is empty, that username or address is locked for
the seconds the bucket needs to admit one more try: every login in that time is refused without
looking at the password, with a form error (HTTP 429 and Retry-After) or, for a client asking for
JSON, the error `rate_limited` with `retry_after`. Successful logins cost nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import DisallowedHost, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse

from .ratelimit import hit, parse_rate

logger = logging.getLogger(__name__)

# Content-Security-Policy

_FIXED_DIRECTIVES = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data: blob:"),
    ("font-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
)


def media_sources(request: HttpRequest) -> list[str]:
    """CSP_MEDIA_SRC; on a plain-HTTP page `https:` also admits `http:` (on an HTTPS page the
    browser upgrades an http: video to https: itself, as mixed content)."""
    sources = list(settings.CSP_MEDIA_SRC)
    if "https:" in sources and "http:" not in sources and not request.is_secure():
        sources.append("http:")
    return sources


def content_security_policy(request: HttpRequest, framable: bool = False) -> str:
    directives = [f"{name} {value}" for name, value in _FIXED_DIRECTIVES]
    directives.append("media-src " + " ".join(media_sources(request)))
    connect = ["'self'"]
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""
    if host and not host.startswith("["):  # CSP has no syntax for IPv6 literals
        # 'self' covers this site's WebSocket in current browsers; older ones need it spelt out.
        connect += [f"ws://{host}", f"wss://{host}"]
    directives.append("connect-src " + " ".join(connect))
    if not framable:
        directives.append("frame-ancestors 'none'")
    if settings.CSP_REPORT_URI:
        directives.append(f"report-uri {settings.CSP_REPORT_URI}")
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that has none; a response marked
    `xframe_options_exempt` (the OBS overlay) may be framed by any site.

    With DEBUG on, error pages go without it: Django's debug pages use inline script and style.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return self.add_policy(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response = await self.get_response(request)
        return self.add_policy(request, response)

    @staticmethod
    def add_policy(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if settings.DEBUG and response.status_code >= 400:
            return response
        header = "Content-Security-Policy"
        if settings.CSP_REPORT_ONLY:
            header += "-Report-Only"
        if header not in response:
            framable = bool(getattr(response, "xframe_options_exempt", False))
            response[header] = content_security_policy(request, framable=framable)
        return response


# Login throttling


def _client_address(request: HttpRequest | None) -> str:
    return str(request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def _throttle_keys(request: HttpRequest | None, username: str) -> list[tuple[str, str, str]]:
    """(bucket key, rate setting, description for the log) per limit. The username is
    case-folded, so `Alice` and `alice` share a bucket, and hashed: any text is a valid key."""
    name = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    address = _client_address(request)
    return [
        (f"login-failure:user:{name}", settings.CHAT_LOGIN_FAILURE_RATE, f"username {username[:150]!r}"),
        (f"login-failure:ip:{address}", settings.CHAT_LOGIN_FAILURE_RATE_IP, f"address {address!r}"),
    ]


def login_locked(request: HttpRequest | None, username: str) -> int | None:
    """Seconds until a login for `username` from this client may be tried, or None: now."""
    now = time.time()
    waits = []
    for key, _rate, _what in _throttle_keys(request, username):
        try:
            until = cache.get(f"lock:{key}")
        except Exception:  # a cache outage must not stop every login (chat/ratelimit.py agrees)
            until = None
        if until is not None and float(until) > now:
            waits.append(max(1, math.ceil(float(until) - now)))
    return max(waits, default=None)


def record_login_failure(request: HttpRequest | None, username: str) -> int | None:
    """Count a failed login; the seconds to wait if a limit is now reached, else None."""
    now = time.time()
    waits = []
    for key, rate, what in _throttle_keys(request, username):
        wait = hit(key, parse_rate(rate), now=now)
        if wait is not None:
            waits.append(wait)
            logger.warning("too many failed logins: %s locked for %d s", what, wait)
            # A cache outage: hit() allowed the try and logged it; nothing to lock then.
            with contextlib.suppress(Exception):
                cache.set(f"lock:{key}", now + wait, timeout=wait + 1)
    return max(waits, default=None)


def rate_limited_message(seconds: int) -> str:
    return (
        "Too many failed logins for this account or from your network. "
        f"Try again in {seconds} second{'' if seconds == 1 else 's'}."
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form, refusing to check passwords for a locked username or address.

    After an invalid form, `retry_after` holds the seconds to wait when throttling refused it.
    """

    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        wait = login_locked(self.request, username)
        if wait is not None:
            raise self._throttled(wait)
        try:
            return super().clean()
        except ValidationError:
            if self.user_cache is None:  # wrong credentials, not a refused (inactive) account
                wait = record_login_failure(self.request, username)
                if wait is not None:
                    raise self._throttled(wait) from None
            raise

    def _throttled(self, seconds: int) -> ValidationError:
        self.retry_after = seconds
        return ValidationError(rate_limited_message(seconds), code="rate_limited")


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin's login form with the same throttling (and the same buckets)."""


def wants_json(request: HttpRequest) -> bool:
    """An API client rather than a browser form (the same test as chat.views.csrf_failure)."""
    return request.content_type == "application/json" or "json" in request.headers.get("Accept", "")


def rate_limited_json(seconds: int, message: str) -> JsonResponse:
    response = JsonResponse(
        {"type": "error", "nonce": None, "code": "rate_limited", "message": message, "retry_after": seconds},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
