"""A deadline for each request's headers, in daphne's own protocol layer.

Twisted's HTTP channel (daphne's) restarts its idle timer (60 s) on every byte it receives, so a
client that sent a request's headers one byte every few seconds held its connection, and one of
the process's file descriptors, for as long as it kept sending; a few hundred such clients
fill a descriptor table. `HeaderDeadlineChannel` gives each request `CHAT_HEADER_TIMEOUT`
seconds to deliver its headers, whatever trickles in meanwhile:

- the first request's time starts when the connection is accepted; on a keep-alive
  connection, the next request's starts with its first bytes, once they are read and the
  headers are not complete (the wait between requests stays with Twisted's idle timer);
- past the deadline, a client that sent part of a request gets 408 `request_timeout`, one that
  sent nothing gets no answer, and the connection is closed (aborted if the client does not
  take the answer within Twisted's `abortTimeout`);
- once the headers are complete the deadline no longer applies: bodies have their own limits
  (bounded.py), and SSE streams, held long-polls and WebSockets last by design. A WebSocket's
  handshake is an HTTP request until then, so it is covered too.

A request body gets the same protection, the way Apache's `RequestReadTimeout body=20,MinRate=500`
does it: `CHAT_BODY_TIMEOUT` seconds from the end of the headers, plus a second for every
`CHAT_BODY_MIN_RATE` bytes received. A body must keep arriving at that rate on average: a
client that trickles one (a byte every few seconds, under a Content-Length it never reaches)
is answered 408 and closed, while a 50 MiB upload over a slow line (100 KB/s) is never cut.

config/serve.py installs `header_deadline_protocol` as daphne's protocol factory.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from twisted.internet.base import DelayedCall
from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol

from chat.errors import ChatError, Text

logger = logging.getLogger(__name__)


def request_timeout_response(seconds: float, language: str | None = None) -> bytes:
    """A complete HTTP/1.1 408 answer, JSON in the project's error shape, closing the connection
    (its message in `language`, by default LANGUAGE_CODE)."""
    return timeout_response(
        Text(_("The request's headers did not arrive within %(seconds)s s."), seconds=format(seconds, "g")),
        language,
    )


def timeout_response(message: Text, language: str | None = None) -> bytes:
    from .language import frame_in  # after Django's setup: config/serve.py imports this before it

    error = ChatError("request_timeout", message, status=408)
    body = frame_in(language or settings.LANGUAGE_CODE, error).encode()
    head = (
        b"HTTP/1.1 408 Request Timeout\r\n"
        b"Content-Type: application/json\r\n"
        b"Cache-Control: no-store\r\n"
        b"Connection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    return head + body


class HeaderDeadlineChannel(HTTPChannel):
    """Twisted's HTTP/1.1 channel, closing a connection whose request headers take longer than
    `header_timeout` seconds (0: no deadline)."""

    header_timeout: float = 0
    body_timeout: float = 0  # seconds for a body, from the end of its headers (0: none)
    body_min_rate: float = 0  # bytes that earn the body another second
    _deadline: DelayedCall | None = None
    _body_deadline: DelayedCall | None = None
    _request_started = False  # a byte of the request whose headers are awaited has arrived
    _reading_request = False  # from a request's headers to the end of its body: no deadline

    def connectionMade(self) -> None:
        super().connectionMade()
        self._start_deadline()

    def dataReceived(self, data: bytes) -> None:
        # While a request is read or answered, what arrives is its body or a pipelined request
        # that Twisted keeps for later (and replays through here once the answer is done).
        awaiting = not self._reading_request and not self._handlingRequest
        if awaiting:
            self._request_started = True
        elif self._body_deadline is not None and self.body_min_rate > 0:
            self._body_deadline.delay(len(data) / self.body_min_rate)
        super().dataReceived(data)
        # The deadline starts only if these bytes did not complete the headers: most requests
        # arrive whole, and a timer made and cancelled for each cost a long-poll viewer's
        # request more than its answer's encoding did.
        still_awaiting = self._request_started and not self._reading_request and not self._handlingRequest
        if awaiting and still_awaiting and not self._closing():
            self._start_deadline()

    def _closing(self) -> bool:
        transport = self.transport
        return bool(getattr(transport, "disconnecting", False) or getattr(transport, "disconnected", False))

    def allHeadersReceived(self) -> None:
        self._cancel_deadline()
        self._reading_request = True
        # A request without a body (length 0) ends at once: no deadline to make and cancel.
        if self.body_timeout > 0 and self.length != 0:
            self._body_deadline = self.callLater(self.body_timeout, self._body_expired)
        super().allHeadersReceived()

    def allContentReceived(self) -> None:
        # The request is handed to daphne; the next bytes parsed belong to the next request.
        self._reading_request = False
        self._request_started = False
        self._cancel_body_deadline()
        super().allContentReceived()

    def setTimeout(self, period: float | None) -> Any:
        """Twisted turns the idle timer off when the connection ends and when it hands the
        connection to HTTP/2 (which has its own timers): the deadline goes with it."""
        if period is None:
            self._cancel_deadline()
            self._cancel_body_deadline()
        return super().setTimeout(period)

    def loseConnection(self) -> None:
        """Closing for any reason (a 400, a 413, the answer of a last request) ends the wait."""
        self._cancel_deadline()
        self._cancel_body_deadline()
        super().loseConnection()

    def _start_deadline(self) -> None:
        if self._deadline is None and self.header_timeout > 0:
            self._deadline = self.callLater(self.header_timeout, self._expired)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            if self._deadline.active():
                self._deadline.cancel()
            self._deadline = None

    def _cancel_body_deadline(self) -> None:
        if self._body_deadline is not None:
            if self._body_deadline.active():
                self._body_deadline.cancel()
            self._body_deadline = None

    def _expired(self) -> None:
        self._deadline = None
        self._close_late(
            f"no complete request headers within {self.header_timeout:g} s",
            request_timeout_response(self.header_timeout, self._language()) if self._request_started else b"",
        )

    def _body_expired(self) -> None:
        self._body_deadline = None
        message = Text(
            _(
                "The request's body arrived too slowly: at least %(rate)s bytes a second after the "
                "first %(seconds)s s."
            ),
            rate=format(self.body_min_rate, "g"),
            seconds=format(self.body_timeout, "g"),
        )
        self._close_late("a request body arriving too slowly", timeout_response(message, self._language()))

    def _language(self) -> str:
        """The language of the request's headers received so far (cookie, Accept-Language)."""
        from .language import raw_headers_language  # after Django's setup, as above

        requests = getattr(self, "requests", None)
        return raw_headers_language(requests[-1].requestHeaders if requests else None)

    def _close_late(self, reason: str, answer: bytes) -> None:
        """Answer 408 (unless `answer` is empty) and close the connection."""
        transport: Any = self.transport
        peer = transport.getPeer()
        logger.info("closed a connection from %s: %s", getattr(peer, "host", peer), reason)
        if answer:
            transport.write(answer)
        self.loseConnection()
        # As Twisted's own idle timeout does: a client that does not read loses the connection
        # anyway (connectionLost cancels this).
        if self.abortTimeout is not None:
            self._abortingCall = self.callLater(self.abortTimeout, self.forceAbortClient)


def header_deadline_protocol() -> Any:
    """A connection's protocol, as daphne's HTTP factory builds it (Twisted's HTTP/1.1 and
    HTTP/2 switch), around a `HeaderDeadlineChannel` with the settings' deadlines."""
    channel = HeaderDeadlineChannel()
    channel.header_timeout = float(settings.CHAT_HEADER_TIMEOUT)
    channel.body_timeout = float(settings.CHAT_BODY_TIMEOUT)
    channel.body_min_rate = float(settings.CHAT_BODY_MIN_RATE)
    return _GenericHTTPChannelProtocol(channel)
