"""Refuse requests from other sites by their Origin header (browsers always send it), and
requests for host names the site does not serve (ALLOWED_HOSTS, as Django checks on pages)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.utils.translation import gettext_lazy as _

from chat.clients import header
from chat.errors import ChatError
from chat.models import Room, is_room_slug
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
    host = request_host(scope)
    key = (host, tuple(allowed))
    verdict = _host_verdicts.get(key)
    if verdict is None:
        domain, _ = split_domain_port(host)
        verdict = bool(domain) and validate_host(domain, allowed)
        if len(_host_verdicts) >= HOST_VERDICTS_MAX:
            _host_verdicts.clear()  # made-up Host headers cannot grow it
        _host_verdicts[key] = verdict
    return verdict


# Every long-poll asks: the verdicts of the hosts seen lately, by host and ALLOWED_HOSTS.
HOST_VERDICTS_MAX = 1_000
_host_verdicts: dict[tuple[str, tuple[str, ...]], bool] = {}


def invalid_host() -> ChatError:
    """The refusal for a host not in ALLOWED_HOSTS (400, as Django answers DisallowedHost)."""
    return ChatError("invalid_host", _("This server does not serve that host name."), status=400)


# Cross-origin reads and token writes (docs/PROTOCOL.md "Other sites"): CORS_ALLOWED_ORIGINS, and
# each room's `embed_origin`. One policy for Django's views (django-cors-headers, with
# `room_origin_listed` as its signal) and the ASGI paths (`cors_headers`).
ORIGIN_MAX_CHARS = 200


def normalize_origin(value: object) -> str | None:
    """`scheme://host[:port]` in lower case for an http(s) origin with nothing else in it
    (no path, query, fragment or user), None for anything else."""
    if not isinstance(value, str) or not value or len(value) > ORIGIN_MAX_CHARS or not value.isascii():
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username is not None:
        return None
    if parts.path not in {"", "/"} or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def origin_listed(origin: str | None, room_origin: str = "") -> bool:
    """`origin` (an Origin header) is in CORS_ALLOWED_ORIGINS or is the room's embed origin."""
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    return normalized in settings.CORS_ALLOWED_ORIGINS or (bool(room_origin) and normalized == room_origin)


def cors_headers(origin: str, *, preflight: bool) -> dict[str, str]:
    """The headers that let `origin` (already found listed) read an answer of an SSE or
    long-poll path, or pass its preflight: django-cors-headers' settings, never credentials."""
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        headers["Access-Control-Allow-Headers"] = ", ".join(settings.CORS_ALLOW_HEADERS)
        headers["Access-Control-Max-Age"] = str(settings.CORS_PREFLIGHT_MAX_AGE)
    else:
        headers["Access-Control-Expose-Headers"] = ", ".join(settings.CORS_EXPOSE_HEADERS)
    return headers


# Where a Django path names its room for the per-room origin: /rooms/<slug>/..., or DPlayer's `id`.
_ROOM_PATH = re.compile(r"^/rooms/([a-z0-9-]{1,50})/")


def room_embed_origin(slug: str | None) -> str:
    """The room's embed origin ("" for none, or no such room)."""
    if not slug or not is_room_slug(slug):
        return ""
    return Room.objects.filter(slug=slug).values_list("embed_origin", flat=True).first() or ""


def origin_listed_anywhere(origin: str | None) -> bool:
    """`origin` is in CORS_ALLOWED_ORIGINS or some room's embed origin (a request that names
    its room only in its body is refused early otherwise)."""
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    return (
        normalized in settings.CORS_ALLOWED_ORIGINS or Room.objects.filter(embed_origin=normalized).exists()
    )


def request_room_slug(request: HttpRequest) -> str | None:
    match = _ROOM_PATH.match(request.path_info)
    if match is not None:
        return match[1]
    if request.path_info == "/dplayer/v3/":
        slug = request.GET.get("id")
        return slug if isinstance(slug, str) else None
    return None


def room_origin_listed(sender: object, request: HttpRequest, **kwargs: object) -> bool:
    """django-cors-headers' `check_request_enabled` signal: a CORS path of a room whose embed
    origin is the request's Origin (CORS_ALLOWED_ORIGINS it checks itself)."""
    origin = request.headers.get("Origin")
    if not origin or not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return False
    if same_site(origin, request.META.get("HTTP_HOST")):
        return False  # this site's own pages need no CORS (and cost no query)
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    slug = request_room_slug(request)
    if slug is None and request.path_info == "/dplayer/v3/":
        # DPlayer's POST names its room in the body, and its preflight nowhere: the origin of any
        # room's page passes here; the view then checks it against the room (danmaku/dplayer.py).
        return origin_listed_anywhere(origin)
    return room_embed_origin(slug) == normalized
