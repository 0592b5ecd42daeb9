"""Login throttling against password guessing.

Failed logins count per username (whatever the address) and per client address (whatever the
username), as GCRA buckets on the shared cache (ratelimit.py), so all processes share them on
Redis. Once a bucket is empty, that username or address is locked for the seconds the bucket
needs to admit one more try: every login in that time is refused without looking at the
password, with a form error (HTTP 429 and Retry-After) or, for a client asking for JSON, the
error `rate_limited` with `retry_after`. Successful logins cost nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext_lazy

from chat.clients import client_address
from chat.errors import ChatError, Text

from .ratelimit import hit, parse_rate

logger = logging.getLogger(__name__)


def _throttle_keys(request: HttpRequest | None, username: str) -> list[tuple[str, str, str]]:
    """(bucket key, rate setting, description for the log) per limit. The username is
    case-folded, so `Alice` and `alice` share a bucket, and hashed: any text is a valid key."""
    name = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    address = client_address(request)
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
        except Exception:  # a cache outage must not stop every login (chat/guards/ratelimit.py agrees)
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


def rate_limited_message(seconds: int) -> Text:
    return Text(
        ngettext_lazy(
            "Too many failed logins for this account or from your network. Try again in %(seconds)s second.",
            "Too many failed logins for this account or from your network. Try again in %(seconds)s seconds.",
            "seconds",
        ),
        seconds=seconds,
    )


def login_throttled(seconds: int) -> ChatError:
    """The refusal of a throttled login (HTTP 429 with Retry-After)."""
    return ChatError("rate_limited", rate_limited_message(seconds), status=429, retry_after=seconds)


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
        return ValidationError(str(rate_limited_message(seconds)), code="rate_limited")


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin's login form with the same throttling (and the same buckets)."""


def answer_throttled_form(response: HttpResponse) -> HttpResponse:
    """A login page whose form throttling refused (`retry_after`, above) becomes 429 with
    Retry-After, the form and its error unchanged: for the admin's login view, which builds its
    response itself."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    retry_after = getattr(form, "retry_after", None)
    if retry_after is not None:
        refusal = login_throttled(retry_after)
        response.status_code = refusal.status
        for name, value in refusal.headers().items():
            response[name] = value
    return response


def wants_json(request: HttpRequest) -> bool:
    """An API client rather than a browser form: it sends or accepts JSON."""
    return request.content_type == "application/json" or "json" in request.headers.get("Accept", "")
