"""A leaner daphne WebSocket connection: what an idle connection keeps after its handshake.

Measured with tracemalloc on 1,000 idle connections (docs/BENCHMARKS.md, "Idle WebSocket
connections: where the bytes go"), the largest single cost of a connection was the `__dict__`
of daphne's protocol object: 3.3 KB, over a hundred attributes, 29 of them autobahn's options
copied from the factory into every connection, and others the handshake's request (its raw
bytes, its parsed headers twice over) that nothing reads once the connection is open. This
subclass:

- holds the factory's options as class attributes: autobahn copies an option into a
  connection only when the connection does not already have it (`_connectionMade`), so they
  are read from the class, once for all connections;
- drops the handshake's request once the connection is open (`onOpen`), keeping only the
  path daphne's access log names, and empties the ASGI scope's header list in place (every
  copy of the scope shares it; nothing reads a WebSocket's headers after the handshake: the
  origin, cookie and token checks run before it is accepted), then packs its `__dict__`;
- reads the connection state that is the same on every open connection (no close code yet,
  no ping pending: `STATE_DEFAULTS`) from the class until it changes;
- makes autobahn's send queue (a deque, 0.6 KB) only when a chopped or synchronous send needs
  it: daphne sends neither way, so it is never made.

The options are frozen when the class is made (`lean_protocol_class`, when the server starts
listening): options set on the factory later do not reach the connections.

This module must not import Django: config/serve.py imports it before settings exist.
"""

from __future__ import annotations

from collections import deque
from types import FunctionType
from typing import Any

# Attributes of the handshake autobahn and daphne set, never read once the connection is open
# (autobahn reads them in `processHandshake`, daphne in `onConnect`).
HANDSHAKE_ONLY = (
    "http_request_data",
    "http_status_line",
    "http_headers",
    "http_request_uri",
    "http_request_params",
    "websocket_protocols",
    "websocket_extensions",
    "websocket_origin",
    "http_request_host",
    "http_request_path",
    "http_response_data",
    "_wskey",
    "clean_headers",
)

# Connection state autobahn sets to the same value on every connection when it opens, and
# changes only as a connection pings, fails or closes: read from the class until then (a
# write makes the connection's own attribute again). Only immutable values.
STATE_DEFAULTS: dict[str, object] = {
    **dict.fromkeys(
        (
            "trackedTimings",
            "wasNotCleanReason",
            "localCloseCode",
            "localCloseReason",
            "remoteCloseCode",
            "remoteCloseReason",
            "openHandshakeTimeoutCall",
            "closeHandshakeTimeoutCall",
            "autoPingTimeoutCall",
            "autoPingPending",
            "autoPingPendingCall",
            "autoPingPendingSent",
            "protocol_to_accept",
            "websocket_protocol_in_use",
            "current_frame",
            "_perMessageCompress",
        ),
        None,
    ),
    **dict.fromkeys(
        (
            "wasMaxFramePayloadSizeExceeded",
            "wasMaxMessagePayloadSizeExceeded",
            "closedByMe",
            "failedByMe",
            "droppedByMe",
            "wasClean",
            "wasServerConnectionDropTimeout",
            "wasOpenHandshakeTimeout",
            "wasCloseHandshakeTimeout",
            "wasServingFlashSocketPolicyFile",
            "inside_message",
            "triggered",
        ),
        False,
    ),
    "autoPingPendingSeq": 0,
    "send_state": 0,
    "data": b"",
    "root_path": "",
    "_raw_query_string": b"",
    # Lists autobahn makes for each connection, read-only once it is open: a tuple for all.
    "websocket_extensions_in_use": (),  # no extension is offered (compression is off)
    "_valid_events": ("message",),  # txaio's events of a WebSocket protocol
}


class HandshakeRequest:
    """What daphne reads of the handshake's request after it: the path, for its access log."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


class _EmptySendQueue:
    """autobahn's send queue while it is empty: `len()` 0 (all `sendData` asks of it unless a
    send is chopped or synchronous, see `LeanProtocolMixin.sendData`)."""

    __slots__ = ()

    def __len__(self) -> int:
        return 0


_EMPTY_SEND_QUEUE = _EmptySendQueue()


class LeanProtocolMixin:
    """Put before daphne's WebSocketProtocol in the bases (see the module doc)."""

    __dict__: dict[str, Any]

    @property
    def send_queue(self) -> Any:
        return self.__dict__.get("_send_queue", _EMPTY_SEND_QUEUE)

    @send_queue.setter
    def send_queue(self, queue: Any) -> None:
        if len(queue):
            self.__dict__["_send_queue"] = queue
        else:
            self.__dict__.pop("_send_queue", None)  # autobahn's fresh, empty deque: not kept

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        if (sync or chopsize) and "_send_queue" not in self.__dict__:
            self.__dict__["_send_queue"] = deque()
        super().sendData(data, sync, chopsize)  # type: ignore[misc]

    def onOpen(self) -> None:
        super().onOpen()  # type: ignore[misc]
        self.forget_handshake()

    def forget_handshake(self) -> None:
        """Let go of the handshake's request (see the module doc)."""
        state = self.__dict__
        headers = state.get("clean_headers")
        if isinstance(headers, list):
            headers.clear()  # the scope's list: every copy of the scope shares it
        request = state.get("request")
        if request is not None and not isinstance(request, HandshakeRequest):
            state["request"] = HandshakeRequest(getattr(request, "path", ""))
        for name in HANDSHAKE_ONLY:
            state.pop(name, None)
        for name, default in STATE_DEFAULTS.items():
            value = state.get(name, default)
            if isinstance(value, list) and isinstance(default, tuple):
                value = tuple(value)
            if value is default or (type(value) is type(default) and value == default):
                state.pop(name, None)  # the class's default reads the same
        # A dict does not shrink when keys go: a fresh copy is sized for what is left.
        self.__dict__ = dict(state)


def lean_protocol_class(factory: Any) -> type:
    """The factory's protocol class as a lean one: its options (`CONFIG_ATTRS`), taken from the
    factory now, and the state defaults as class attributes."""
    base = factory.protocol
    if issubclass(base, LeanProtocolMixin):
        return base
    options: dict[str, object] = dict(STATE_DEFAULTS)
    options.update((name, getattr(factory, name)) for name in base.CONFIG_ATTRS if hasattr(factory, name))
    for name, value in options.items():
        if isinstance(value, FunctionType):
            options[name] = staticmethod(
                value
            )  # a callable option (perMessageCompressionAccept), not a method
    return type(f"Lean{base.__name__}", (LeanProtocolMixin, base), options)
