"""Who is asking: the client's address, a header, a query parameter. One function each, for
Django's requests and for ASGI scopes alike (transports, guards and pages all ask).

No imports from the project's layers, so any module may use it.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from django.http import HttpRequest

from .types import Scope


def client_address(source: HttpRequest | Scope | None) -> str:
    """The client's IP address, "" when unknown. daphne puts it in the scope (the proxy's
    X-Forwarded-For with --proxy-headers), and Django copies it to REMOTE_ADDR."""
    if source is None:
        return ""
    if isinstance(source, HttpRequest):
        return str(source.META.get("REMOTE_ADDR") or "")
    client = source.get("client") or ("", 0)
    return str(client[0] or "")


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lowercase bytes, as ASGI gives them)."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


# Where a scope keeps its parsed query string: a long-poll asks for four parameters per request.
QUERY_CACHE = "chat.query"


def query_param(scope: Scope, name: str) -> str | None:
    """The last value of the query parameter `name`, None when absent."""
    parsed = scope.get(QUERY_CACHE)
    if parsed is None or parsed[0] is not scope.get("query_string"):
        raw = scope.get("query_string", b"")
        parsed = (raw, parse_qs(raw.decode("latin-1")))
        scope[QUERY_CACHE] = parsed
    values = parsed[1].get(name)
    return values[-1] if values else None
