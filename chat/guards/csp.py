"""The Content-Security-Policy of every response.

The pages load their scripts and styles as files from this site (no inline script, no style
attribute), talk only to this site (HTTP and WebSocket), and may not be framed; only the watch
page's video may come from elsewhere (`CSP_MEDIA_SRC`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

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
