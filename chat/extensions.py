"""The ASGI scope extensions the project's daphne entry point adds (config/serve.py), by key.

Django-free: config/serve.py reads these before settings exist. The writers themselves live in
chat/transports/direct.py; this module only names them, so any layer can look one up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A WebSocket connection's writer of pre-framed messages (`DirectWriter`).
WEBSOCKET_WRITER = "chat.direct_websocket"
# A streaming HTTP response's writer (`DirectHttpWriter`): body chunks, and `buffered()`, the
# bytes the client has not read yet.
HTTP_WRITER = "chat.direct_http"
# An HTTP request's `watch_disconnect(callback)`: `callback()` once the client goes away (at once
# if it already has), without a task of its own reading `receive()` meanwhile.
HTTP_DISCONNECT = "chat.http_disconnect"


def scope_extension(scope: Mapping[str, Any] | None, key: str) -> Any | None:
    """The extension `key` of an ASGI scope, or None (another server, a test client)."""
    return ((scope or {}).get("extensions") or {}).get(key)
