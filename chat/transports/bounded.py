"""Request bodies refused by size before they are read, in daphne's own protocol layer.

daphne (Twisted) reads a request's whole body, into memory or a temporary file, before the
application sees the request, so no view or middleware can refuse a large one in time: a
guest's 1 GB POST was read whole (the process grew from 324 MB to 1.2 GB) and every other
request waited meanwhile. `BoundedRequest` checks the body against its path's limit
(chat/guards/bodies.py) as soon as `Content-Length` is known, and counts a chunked body as it
arrives: past the limit it answers 413 `too_long` and closes the connection, without reading on.
It also gives every answer its standard reason phrase (Twisted's table lacks 429 and a few more).

config/serve.py installs it as daphne's request class.
"""

from __future__ import annotations

import logging
import time
import traceback
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from daphne.http_protocol import WebRequest
from daphne.utils import HEADER_NAME_RE, INVALID_HEADER_VALUE_BYTES, parse_x_forwarded_for
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from twisted.web.http import RESPONSES

from chat.domain.wire import dumps, size_label
from chat.errors import ChatError
from chat.guards.bodies import BodyRule, body_rule

logger = logging.getLogger(__name__)

# Every standard status's reason phrase: Twisted's table (RESPONSES) lacks 429, 422 and a few more.
REASON_PHRASES = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}


def too_large_response(rule: BodyRule, limit: int, language: str | None = None) -> bytes:
    """A complete HTTP/1.1 413 answer, JSON in the path's error shape, closing the connection
    (its message in `language`, by default LANGUAGE_CODE)."""
    error = ChatError(
        "too_long",
        _("Request bodies here are limited to %(limit)s."),
        params={"limit": size_label(limit)},
        status=413,
    )
    with translation.override(language or settings.LANGUAGE_CODE):
        body = dumps(rule.error_body(error)).encode()
    head = (
        b"HTTP/1.1 413 Content Too Large\r\n"
        b"Content-Type: application/json\r\n"
        b"Cache-Control: no-store\r\n"
        b"Connection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    return head + body


class BoundedRequest(WebRequest):
    """daphne's request, refusing a body over its path's limit before reading it."""

    body_rule = BodyRule()
    body_limit = 0
    body_read = 0
    refused = False
    on_lost: Any = None  # called once if the client goes away first (a held direct poll)

    def gotLength(self, length: int | None) -> None:
        """Twisted calls this once the headers are in, with `Content-Length` (None: chunked)."""
        path = urlsplit(bytes(getattr(self.channel, "_path", b"/")).decode("latin-1")).path
        self.body_rule = body_rule(path)
        self.body_limit = self.body_rule.limit()
        if length is not None and length > self.body_limit:
            self.refuse_body(f"Content-Length {length}")
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.body_read += len(data)
        if self.body_read > self.body_limit:
            self.refuse_body(f"more than {self.body_read} bytes sent")
            return
        super().handleContentChunk(data)

    def refuse_body(self, why: str) -> None:
        """Answer 413 and close: nothing more of this request is read or processed."""
        self.refused = True
        logger.info(
            "refused a request body over %d bytes (%s) from %s",
            self.body_limit,
            why,
            getattr(self.getClientAddress(), "host", "an unknown address"),
        )
        channel: Any = self.channel
        # No "100 Continue" after the answer (Twisted sends one for `Expect: 100-continue`).
        channel._send100Continue = lambda: None
        # Imported here: config/serve.py imports this module before Django's setup, and the
        # language's module reaches the models.
        from .language import raw_headers_language

        language = raw_headers_language(self.requestHeaders)
        channel.transport.write(too_large_response(self.body_rule, self.body_limit, language))
        channel.loseConnection()

    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        """Twisted's, with the standard reason phrase for codes its table lacks: the held
        connections' and the rate limits' 429 went out as "429 Unknown Status"."""
        if message is None and code not in RESPONSES:
            message = REASON_PHRASES.get(code)
        super().setResponseCode(code, message)

    def connectionLost(self, reason: Any) -> None:
        lost, self.on_lost = self.on_lost, None
        if lost is not None:
            lost()
        super().connectionLost(reason)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self.refused:
            super().requestReceived(command, path, version)

    def process(self) -> None:
        """daphne's `process`, for a request that is not an upgrade, without its Deferreds:
        daphne runs it as an `inlineCallbacks` generator around `maybeDeferred` for an
        application that this project's server creates at once (config/serve.py), and at a
        thousand long-polls a second that machinery was a twentieth of a poll's cost. The same
        checks, the same scope and the same body messages, in the same order (the test compares
        the scopes of both). An upgrade (WebSocket) goes through daphne's own."""
        if self.requestHeaders.hasHeader(b"upgrade"):
            super().process()
            return
        try:
            self.process_http()
        except Exception:
            logger.error(traceback.format_exc())
            self.basic_error(500, b"Internal Server Error", "Daphne HTTP processing error")

    def process_http(self) -> None:
        self.request_start = time.time()
        for name, values in self.requestHeaders.getAllRawHeaders():
            if not HEADER_NAME_RE.fullmatch(name):
                self.basic_error(400, b"Bad Request", "Invalid header name")
                return
            for value in values:
                if INVALID_HEADER_VALUE_BYTES.intersection(value):
                    self.basic_error(400, b"Bad Request", "Invalid header value")
                    return
        if hasattr(self.client, "host") and hasattr(self.client, "port"):
            self.client_addr = [str(self.client.host), self.client.port]
            self.server_addr = [str(self.host.host), self.host.port]
        self.client_scheme = "https" if self.isSecure() else "http"
        server: Any = self.server
        if server.proxy_forwarded_address_header:
            self.client_addr, self.client_scheme = parse_x_forwarded_for(
                self.requestHeaders,
                server.proxy_forwarded_address_header,
                server.proxy_forwarded_port_header,
                server.proxy_forwarded_proto_header,
                self.client_addr,
                self.client_scheme,
            )
        path: bytes = self.path  # type: ignore[has-type]
        try:
            path.decode("ascii")
        except UnicodeDecodeError:
            self.path = b"/"
            self.basic_error(400, b"Bad Request", "Invalid characters in path")
            return
        self.query_string = b""
        if b"?" in self.uri:
            self.query_string = self.uri.split(b"?", 1)[1]
            try:
                self.query_string.decode("ascii")
            except UnicodeDecodeError:
                self.basic_error(400, b"Bad Request", "Invalid query string")
                return
        self.clean_headers = []
        self.root_path = server.root_path
        for name, values in self.requestHeaders.getAllRawHeaders():
            if b"_" in name:  # CVE-2015-0219, as daphne
                continue
            for value in values:
                if name.lower() == b"daphne-root-path":
                    self.root_path = unquote(value.decode("ascii"))
                else:
                    self.clean_headers.append((name.lower(), value))
        self.content.seek(0, 0)
        scope = {
            "type": "http",
            "http_version": self.clientproto.split(b"/")[-1].decode("ascii"),
            "method": self.method.decode("ascii"),
            "path": unquote(path.decode("ascii")),
            "raw_path": path,
            "root_path": self.root_path,
            "scheme": self.client_scheme,
            "query_string": self.query_string,
            "headers": self.clean_headers,
            "client": self.client_addr,
            "server": self.server_addr,
        }
        # A long-poll of the common kind is answered, or held, without an application
        # (chat/transports/direct_poll.py); the server sets `direct_poll` once Django is set up.
        direct = getattr(server, "direct_poll", None)
        if direct is not None and direct(self, scope):
            return
        self.application_queue = server.create_application(self, scope)
        if self.application_queue is None or self.content.closed:
            return  # the request was abandoned meanwhile
        buffer_size = server.request_buffer_size
        while True:
            chunk = self.content.read(buffer_size)
            more_body = not (len(chunk) < buffer_size)
            self.application_queue.put_nowait({"type": "http.request", "body": chunk, "more_body": more_body})
            if not more_body:
                break
