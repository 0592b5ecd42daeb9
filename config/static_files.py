"""Static files served by daphne itself (SERVE_STATIC=1): WhiteNoise's index and responses, sent
through ASGI a chunk at a time.

WhiteNoise decides everything about a response (the file for a URL, the gzip or Brotli copy the
client accepts, 206 for a Range, 304 for a fresh copy, Cache-Control: a year for a hashed name);
it has no ASGI server of its own, and its Django middleware hands Django a synchronous file,
which Django's ASGI handler reads whole into memory. This module only moves the bytes: read in a
thread, sent as the client takes them (docs/DECISIONS.md).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from whitenoise.middleware import WhiteNoiseMiddleware

from chat.extensions import HTTP_WRITER, scope_extension
from chat.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

# Bytes read from disk per body message: a video of a few hundred MB goes out in pieces, never
# whole in memory.
CHUNK_BYTES = 64 * 1024
# A client that has not taken this much of what was sent waits for it before more is read: at
# most this much of a file per connection sits in daphne's buffers.
UNSENT_MAX_BYTES = 256 * 1024
DRAIN_POLL_SECS = 0.01
# A client that reads nothing for this long loses its connection (a stalled player tab).
DRAIN_TIMEOUT_SECS = 30.0


def wsgi_headers(scope: Scope) -> dict[str, str]:
    """The request headers as WhiteNoise reads them (WSGI's `HTTP_RANGE`, ...)."""
    return {
        "HTTP_" + name.decode("latin-1").upper().replace("-", "_"): value.decode("latin-1")
        for name, value in scope.get("headers") or ()
    }


class StaticFiles:
    """The site's HTTP application with `/static/` answered first, WhiteNoise configured from
    Django's settings (config/settings.py: finders in development, `collectstatic`'s hashed
    files otherwise)."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if not settings.WHITENOISE_USE_FINDERS and not manifest.exists():
            # Every page would fail naming its files: refuse to start instead.
            raise ImproperlyConfigured(f"no {manifest}: run `manage.py collectstatic` first")
        self.whitenoise = WhiteNoiseMiddleware(get_response=None, settings=settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(self.whitenoise.static_prefix):
            static_file = await self.find(path)
            if static_file is not None:
                await self.serve(static_file, scope, send)
                return
        await self.application(scope, receive, send)

    async def find(self, path: str) -> Any:
        if self.whitenoise.autorefresh:  # development: looks at the disk, in a thread
            return await asyncio.to_thread(self.whitenoise.find_file, path)
        return self.whitenoise.files.get(path)

    async def serve(self, static_file: Any, scope: Scope, send: Send) -> None:
        response = static_file.get_response(scope.get("method", "GET"), wsgi_headers(scope))
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
        ]
        # Browsers use the type sent, never one guessed from the bytes (Django's middleware,
        # which adds it to the pages, never sees these responses).
        headers.append((b"x-content-type-options", b"nosniff"))
        file: BinaryIO | None = response.file
        try:
            await send({"type": "http.response.start", "status": int(response.status), "headers": headers})
            if file is None:
                await send({"type": "http.response.body", "body": b""})
                return
            await self.send_file(file, scope, send)
        finally:
            if file is not None:
                file.close()

    async def send_file(self, file: BinaryIO, scope: Scope, send: Send) -> None:
        writer = scope_extension(scope, HTTP_WRITER)
        while True:
            chunk = await asyncio.to_thread(file.read, CHUNK_BYTES)
            if not chunk:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if writer is not None and not await self.drained(writer):
                logger.info("static file %s: the client stopped reading", scope.get("path"))
                writer.abort()
                return
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def drained(writer: Any) -> bool:
        """Wait until the client has taken all but UNSENT_MAX_BYTES; False if it never does."""
        waited = 0.0
        while writer.buffered() > UNSENT_MAX_BYTES:
            if waited >= DRAIN_TIMEOUT_SECS:
                return False
            await asyncio.sleep(DRAIN_POLL_SECS)
            waited += DRAIN_POLL_SECS
        return True
