"""Refuse requests from other sites by their Origin header (browsers always send it), and
requests for host names the site does not serve (ALLOWED_HOSTS, as Django checks on pages)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from chat.clients import header
from chat.errors import ChatError
from chat.types import Scope


def same_site(origin: str | None, host: str | None, scheme: str | None = None) -> bool:
    """`origin` (an Origin header) names the site at `host` (and, when given, `scheme`: http or
    https), or one in CSRF_TRUSTED_ORIGINS.

    No Origin at all comes from a non-browser client (browsers send it on every WebSocket
    handshake and every POST): it carries no ambient browser credentials for another site to
    abuse, so it is allowed.
    """
    if origin is None:
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if host is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    if scheme is not None and parts.scheme != scheme:
        return False
    return parts.netloc.lower() == host.lower()


def request_scheme(scope: Scope) -> str:
    """http or https, as Django's `request.scheme` decides it: SECURE_PROXY_SSL_HEADER when set
    and present, else the connection's own (daphne --proxy-headers takes X-Forwarded-Proto)."""
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        name, secure_value = proxy_header
        meta_name = name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        value = header(scope, meta_name)
        if value is not None:
            return "https" if value.split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in {"https", "wss"} else "http"


def origin_allowed(scope: Scope) -> bool:
    """A WebSocket handshake from this site (see same_site): the same host, port and scheme."""
    return same_site(header(scope, b"origin"), header(scope, b"host"), request_scheme(scope))


# Django's implicit hosts when DEBUG is on and ALLOWED_HOSTS is empty (HttpRequest.get_host).
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


def request_host(scope: Scope) -> str:
    """The Host a request names, as Django's `HttpRequest.get_host` reads it before validating:
    X-Forwarded-Host if USE_X_FORWARDED_HOST, else Host, else the server's name and port."""
    if settings.USE_X_FORWARDED_HOST:
        forwarded = header(scope, b"x-forwarded-host")
        if forwarded is not None:
            return forwarded
    host = header(scope, b"host")
    if host is not None:
        return host
    server = scope.get("server") or ("", None)
    name, port = str(server[0] or ""), server[1]
    default_port = 443 if request_scheme(scope) == "https" else 80
    return name if port in (None, default_port) else f"{name}:{port}"


def host_allowed(scope: Scope) -> bool:
    """The request's host is one of ALLOWED_HOSTS (with DEBUG's implicit local hosts when the
    list is empty), by Django's own rules: what Django checks on every page, held streams and
    WebSocket handshakes check too, so a DNS-rebound name reads nothing."""
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = DEBUG_HOSTS
    domain, _ = split_domain_port(request_host(scope))
    return bool(domain) and validate_host(domain, allowed)


def invalid_host() -> ChatError:
    """The refusal for a host not in ALLOWED_HOSTS (400, as Django answers DisallowedHost)."""
    return ChatError("invalid_host", "This server does not serve that host name.", status=400)
