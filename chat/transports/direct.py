"""Writing WebSocket frames straight to daphne's connections: the fan-out's fast path.

Through Channels, every frame to every connection goes consumer.send -> the session middleware's
wrapper -> daphne's handle_reply -> autobahn's sendMessage, which frames the payload again for
each connection: about 80 microseconds a frame on the machines here, the ceiling of the whole
fan-out. A room's batch is the same bytes for every connection, so the hub frames it once
(`text_frame` of chat/domain/wire.py) and each connection's writer hands those bytes to its
Twisted transport: a buffer append, a few microseconds.

`config/serve.py` puts a `DirectWriter` for each WebSocket connection into the ASGI scope's
`extensions` (key `WEBSOCKET_WRITER` of chat/extensions.py); without it (another server, the
test communicator) consumers fall back to `send()`. The writer also reports how many bytes the
connection has not yet taken (`buffered()`), which is what lets a subscription notice a client
that stopped reading.

This module must not import Django: config/serve.py imports it before settings exist.
It holds no framing of its own: the frames come from the wire format, built once per batch.
"""

from __future__ import annotations

import weakref
from typing import Any


class DirectWriter:
    """Pre-framed messages to one daphne (autobahn) WebSocket connection, in order with the
    frames the consumer sends the usual way (both write to the transport synchronously on the
    event loop, which is Twisted's reactor under daphne)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = weakref.ref(protocol)

    def _open_transport(self) -> Any | None:
        protocol = self._protocol()
        if protocol is None or getattr(protocol, "state", None) != getattr(protocol, "STATE_OPEN", object()):
            return None
        if getattr(protocol, "_perMessageCompress", None) is not None:
            return None  # compressed connections need autobahn's own framing
        transport = getattr(protocol, "transport", None)
        if transport is None or getattr(transport, "disconnecting", False):
            return None
        return transport

    def write_all(self, frames: list[bytes]) -> bool:
        """Send pre-framed messages in order; False (nothing sent) when the connection is not open.

        When Twisted holds nothing for this connection, the bytes go to the socket at once: a
        `transport.write` would register the socket with the event loop's selector and remove
        it again after the write (two epoll_ctl calls and selector bookkeeping per frame, the
        largest cost of a fan-out). What the socket does not take goes through Twisted as usual,
        so order is kept and a slow client's backlog is Twisted's (see `buffered`).
        """
        transport = self._open_transport()
        if transport is None:
            return False
        for frame in frames:
            send_now(transport, frame)
        return True

    def write_live(self, frames: list[bytes], lag_bytes: int) -> bool:
        """`write_all`, unless the client has not taken `lag_bytes` of what it was sent: the
        fan-out's common case in one call (the room's hub writes every connection in turn).
        False (nothing sent) when the connection is not open or lags."""
        transport = self._open_transport()
        if transport is None or buffered(transport) > lag_bytes:
            return False
        for frame in frames:
            send_now(transport, frame)
        return True

    def buffered(self) -> int:
        """Bytes written to this connection that the client has not taken yet."""
        return buffered(getattr(self._protocol(), "transport", None))

    def forget_http_upgrade(self) -> None:
        """Let go of the HTTP request this connection was upgraded from.

        After daphne hands the socket to the WebSocket protocol, Twisted's HTTP channel stays
        registered as the socket's producer, and with it the upgrade request: its headers, body
        buffer and addresses, for as long as the WebSocket lives (about 2 KB of every idle
        connection). Its only remaining effect was to stop reading from a client whose writes
        back up; slow readers are handled by the subscription (chat/realtime/subscription.py) instead.
        """
        transport = getattr(self._protocol(), "transport", None)
        channel = getattr(transport, "producer", None)
        if transport is None or channel is None or not hasattr(channel, "requests"):
            return  # not an upgraded HTTP/1.1 channel (or already done)
        channel.setTimeout(None)
        channel.requests = []
        transport.unregisterProducer()


class DirectHttpWriter:
    """The same for a streaming HTTP response (SSE): pre-built body chunks straight to the
    socket, once daphne has sent the response's headers. Twisted frames a chunked response
    as `<hex length>\r\n<data>\r\n`; the caller passes both forms, built once per batch."""

    __slots__ = ("_request", "held")

    def __init__(self, request: Any) -> None:
        self._request = weakref.ref(request)
        # Set by a transport that holds the request open (SSE, a waiting long-poll): a stopping
        # server does not wait for it to finish (config/serve.py).
        self.held = False

    def hold(self) -> None:
        self.held = True

    def _transport(self) -> tuple[Any, Any] | None:
        request = self._request()
        if request is None or request.finished or getattr(request, "_disconnected", True):
            return None
        if not request.startedWriting:
            return None  # the headers go first, through daphne
        channel = getattr(request, "channel", None)
        transport = getattr(channel, "transport", None)
        if transport is None or getattr(transport, "disconnecting", False):
            return None
        return request, transport

    def write(self, raw: bytes, chunked: bytes) -> bool:
        """Send one body chunk; False (nothing sent) before the headers or after the end."""
        found = self._transport()
        if found is None:
            return False
        request, transport = found
        send_now(transport, chunked if request.chunked else raw)
        return True

    def buffered(self) -> int:
        request = self._request()
        return buffered(getattr(getattr(request, "channel", None), "transport", None))

    def abort(self) -> None:
        """Drop the connection now, unsent bytes and all (a client that stopped reading)."""
        request = self._request()
        transport = getattr(getattr(request, "channel", None), "transport", None)
        if transport is not None:
            transport.abortConnection()


def send_now(transport: Any, data: bytes) -> None:
    """Write `data` to a Twisted transport, straight to its socket when Twisted holds nothing
    for it (see DirectWriter.write_all), through Twisted otherwise."""
    sock = getattr(transport, "socket", None)
    if sock is not None and not getattr(transport, "TLS", False) and _idle(transport):
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            sent = 0  # a dead connection: Twisted notices and closes it on its next write
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)


def _idle(transport: Any) -> bool:
    """Twisted has nothing queued for this transport (so writing to the socket keeps order)."""
    return not getattr(transport, "_tempDataLen", 1) and len(getattr(transport, "dataBuffer", b"x")) == int(
        getattr(transport, "offset", 0)
    )


def buffered(transport: Any) -> int:
    """Bytes a Twisted transport holds that its client has not taken yet."""
    if transport is None:
        return 0
    data = getattr(transport, "dataBuffer", b"")
    return len(data) - int(getattr(transport, "offset", 0)) + int(getattr(transport, "_tempDataLen", 0))
