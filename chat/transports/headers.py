"""A deadline for each request's headers, in daphne's own protocol layer.

Twisted's HTTP channel (daphne's) restarts its idle timer (60 s) on every byte it receives, so a
client that sent a request's headers one byte every few seconds held its connection, and one of
the process's file descriptors, for as long as it kept sending; a few hundred such clients
fill a descriptor table. `HeaderDeadlineChannel` gives each request `CHAT_HEADER_TIMEOUT`
seconds to deliver its headers, whatever trickles in meanwhile:

- the first request's time starts when the connection is accepted; on a keep-alive
  connection, the next request's starts with its first byte (the wait between requests stays
  with Twisted's idle timer);
- past the deadline, a client that sent part of a request gets 408 `request_timeout`, one that
  sent nothing gets no answer, and the connection is closed (aborted if the client does not
  take the answer within Twisted's `abortTimeout`);
- once the headers are complete the deadline no longer applies: bodies have their own limits
  (bounded.py), and SSE streams, held long-polls and WebSockets last by design. A WebSocket's
  handshake is an HTTP request until then, so it is covered too.

config/serve.py installs `header_deadline_protocol` as daphne's protocol factory.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from twisted.internet.base import DelayedCall
from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol

from chat.domain.wire import dumps
from chat.errors import ChatError

logger = logging.getLogger(__name__)


def request_timeout_response(seconds: float) -> bytes:
    """A complete HTTP/1.1 408 answer, JSON in the project's error shape, closing the connection."""
    error = ChatError(
        "request_timeout", f"The request's headers did not arrive within {seconds:g} s.", status=408
    )
    body = dumps(error.as_frame()).encode()
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
    _deadline: DelayedCall | None = None
    _request_started = False  # a byte of the request whose headers are awaited has arrived
    _reading_request = False  # from a request's headers to the end of its body: no deadline

    def connectionMade(self) -> None:
        super().connectionMade()
        self._start_deadline()

    def dataReceived(self, data: bytes) -> None:
        # While a request is read or answered, what arrives is its body or a pipelined request
        # that Twisted keeps for later (and replays through here once the answer is done).
        if not self._reading_request and not self._handlingRequest:
            self._request_started = True
            self._start_deadline()
        super().dataReceived(data)

    def allHeadersReceived(self) -> None:
        self._cancel_deadline()
        self._reading_request = True
        super().allHeadersReceived()

    def allContentReceived(self) -> None:
        # The request is handed to daphne; the next bytes parsed belong to the next request.
        self._reading_request = False
        self._request_started = False
        super().allContentReceived()

    def setTimeout(self, period: float | None) -> Any:
        """Twisted turns the idle timer off when the connection ends and when it hands the
        connection to HTTP/2 (which has its own timers): the deadline goes with it."""
        if period is None:
            self._cancel_deadline()
        return super().setTimeout(period)

    def loseConnection(self) -> None:
        """Closing for any reason (a 400, a 413, the answer of a last request) ends the wait."""
        self._cancel_deadline()
        super().loseConnection()

    def _start_deadline(self) -> None:
        if self._deadline is None and self.header_timeout > 0:
            self._deadline = self.callLater(self.header_timeout, self._expired)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            if self._deadline.active():
                self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        transport: Any = self.transport
        peer = transport.getPeer()
        logger.info(
            "closed a connection from %s: no complete request headers within %g s",
            getattr(peer, "host", peer),
            self.header_timeout,
        )
        if self._request_started:
            transport.write(request_timeout_response(self.header_timeout))
        self.loseConnection()
        # As Twisted's own idle timeout does: a client that does not read loses the connection
        # anyway (connectionLost cancels this).
        if self.abortTimeout is not None:
            self._abortingCall = self.callLater(self.abortTimeout, self.forceAbortClient)


def header_deadline_protocol() -> Any:
    """A connection's protocol, as daphne's HTTP factory builds it (Twisted's HTTP/1.1 and
    HTTP/2 switch), around a `HeaderDeadlineChannel` with `CHAT_HEADER_TIMEOUT`."""
    channel = HeaderDeadlineChannel()
    channel.header_timeout = float(settings.CHAT_HEADER_TIMEOUT)
    return _GenericHTTPChannelProtocol(channel)
