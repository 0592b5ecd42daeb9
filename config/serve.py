"""Run the site under daphne with the project's limits: `python -m config.serve [--port N]`.

The one place that knows how daphne is started, used by `make run`, the tests and the docs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import time
from functools import partial
from typing import Any
from urllib.parse import unquote_plus

from chat.domain.wire import FRAME_MAX_BYTES

logger = logging.getLogger(__name__)

# Pending connections the kernel queues for us (Twisted's default is 50). When clients
# reconnect together after a restart, a short queue drops SYNs and clients wait out TCP's
# 1, 3, 7, 15 s retries; the kernel caps this at net.core.somaxconn.
LISTEN_BACKLOG = 2048

# The cyclic garbage collector's thresholds (CPython's default: 700, 10, 10). At hundreds of
# posts a second 700 allocations pass in a few milliseconds, so anything that lived that long (a
# batch being written, a post on its trip to the database) reached the oldest generation, and
# full collections, each walking every connection's objects (200-500 ms with 6,000 connections,
# finding nothing), came every few seconds. Larger still (50,000) lets request garbage that sits
# in reference cycles pile up (docs/DECISIONS.md).
GC_THRESHOLDS = (10_000, 20, 10)

# A graceful stop (SIGTERM): stop listening, let requests in progress finish for up to this long
# (streams and waiting long-polls are not waited for), then end every connection's application.
SHUTDOWN_DRAIN_SECS = 5.0
DRAIN_POLL_SECS = 0.05
# Then this process's members leave the online lists of every room, within this long.
SHUTDOWN_LEAVE_SECS = 3.0


# daphne's periodic checks (an application that ended, a connection past its timeout or due a
# keep-alive ping) walk every connection in one go: at 50,000 connections that held the event
# loop for 50-100 ms every second, and every frame waited behind it. They are done this many
# connections per turn of the loop instead. Few: connections opened together are due their
# keep-alive ping together, and they sit side by side in daphne's table, so a slice may send
# a ping to each of its connections (about 50 microseconds each on a busy machine).
CHECK_SLICE = 500


# Query parameters that are secrets (the overlay key and a read ticket open a private room):
# never logged.
SECRET_PARAMS = frozenset({"key", "ticket"})
REDACTED = "[redacted]"


def redacted_path(path: str) -> str:
    """`path` as the access log may show it: the value of every secret query parameter replaced
    (a name spelled with %-escapes or `+` too: the server decodes names before reading them)."""
    head, mark, query = path.partition("?")
    if not mark:
        return path
    parts = []
    for part in query.split("&"):
        name = part.partition("=")[0]
        if unquote_plus(name) in SECRET_PARAMS:
            part = f"{name}={REDACTED}"
        parts.append(part)
    return f"{head}?{'&'.join(parts)}"


def daphne_argv(host: str, port: int, extra: list[str]) -> list[str]:
    interface = host.replace(":", r"\:")  # IPv6 addresses inside a Twisted endpoint string
    return [
        "--endpoint", f"tcp:port={port}:interface={interface}:backlog={LISTEN_BACKLOG}",
        # Larger frames are refused with close code 1009 before they are read whole.
        "--websocket-max-message-size", str(FRAME_MAX_BYTES),
        "--websocket-max-frame-size", str(FRAME_MAX_BYTES),
        *extra,
        "config.asgi:application",
    ]  # fmt: skip


class Inbox:
    """A connection's queue of incoming ASGI messages: what daphne uses of `asyncio.Queue`
    (`put_nowait`, and `get` from the one application reading it), without the Queue's three
    deques, 2.3 KB of every idle connection. An HTTP endpoint may also ask to be called when
    `http.disconnect` arrives (`watch_disconnect`) instead of running a task that reads it."""

    __slots__ = ("_items", "_on_disconnect", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[Any] | None = None
        self._on_disconnect: Any = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._on_disconnect is not None and item.get("type") == "http.disconnect":
            callback, self._on_disconnect = self._on_disconnect, None
            callback()

    async def get(self) -> Any:
        # The item stays queued until taken: a reader cancelled after the wake-up loses nothing.
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def watch_disconnect(self, callback: Any) -> None:
        """`callback()` once, when `http.disconnect` is put, or now if one is queued already;
        None stops watching."""
        if callback is not None:
            for item in self._items:
                if item.get("type") == "http.disconnect":
                    callback()
                    return
        self._on_disconnect = callback


class InSlices:
    """One walk of daphne's connections in slices (`ChatServer.in_slices`). A class, not a
    closure that schedules itself: such a closure refers to itself through its cell, and that
    cycle kept the walk's snapshot of every connection, finished requests included, alive until
    the next full collection (at a thousand long-polls a second, most of what the collector
    walked). This object is freed when the last slice has run."""

    __slots__ = ("again", "again_after", "connections", "protocols", "visit")

    def __init__(self, connections: dict[Any, Any], visit: Any, again_after: float, again: Any) -> None:
        self.connections = connections
        self.protocols = list(connections)
        self.visit = visit
        self.again_after = again_after
        self.again = again

    def step(self, start: int) -> None:
        from twisted.internet import reactor

        clock: Any = reactor  # IReactorTime; its stubs type the module, not the reactor
        for protocol in self.protocols[start : start + CHECK_SLICE]:
            if protocol in self.connections:
                self.visit(protocol)
        if start + CHECK_SLICE < len(self.protocols):
            clock.callLater(0, self.step, start + CHECK_SLICE)
        else:
            self.protocols = []
            clock.callLater(self.again_after, self.again)


def _command_line() -> Any:
    from daphne.cli import CommandLineInterface
    from daphne.http_protocol import HTTPFactory
    from daphne.server import Server
    from twisted.internet import defer
    from twisted.internet.interfaces import ISSLTransport

    from chat.extensions import HTTP_DISCONNECT, HTTP_WRITER, WEBSOCKET_WRITER
    from chat.transports.bounded import BoundedRequest
    from chat.transports.direct import DirectHttpWriter, DirectWriter
    from chat.transports.headers import header_deadline_protocol
    from chat.transports.lean_protocol import lean_protocol_class

    class BoundedHTTPFactory(HTTPFactory):
        # Each connection's protocol: Twisted's, with a deadline for every request's headers
        # (chat/transports/headers.py).
        protocol = staticmethod(header_deadline_protocol)

        def buildProtocol(self, addr: Any) -> Any:
            """daphne's HTTP protocol, with request bodies refused by size before they are read
            (chat/transports/bounded.py)."""
            protocol = super().buildProtocol(addr)
            protocol.requestFactory = BoundedRequest
            return protocol

        def log(self, request: Any) -> None:
            """Twisted's own access-log line, which it formats for every request: daphne sends
            Twisted's log nowhere (at verbosity 2 and up, to `logging` beside its own access
            log), and writes its access log itself (`ChatServer.log_action`). At a thousand
            long-polls a second the unread lines took 4% of the event loop."""

    class ChatServer(Server):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._ports: list[Any] = []
            self.direct_poll: Any = None  # long-polls answered below ASGI, once Django is set up

        @property
        def http_factory(self) -> Any:
            return self._http_factory

        @http_factory.setter
        def http_factory(self, factory: Any) -> None:
            """daphne's `run()` makes its own factory just before it listens: ours instead."""
            self._http_factory = (
                factory if isinstance(factory, BoundedHTTPFactory) else BoundedHTTPFactory(self)
            )

        def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
            """daphne's own, with a leaner input queue (`Inbox`) and the fan-out's fast path
            (chat/transports/direct.py): frames written straight to the connection."""
            assert "application_instance" not in self.connections[protocol]
            if scope.get("type") == "websocket":
                # daphne leaves a WebSocket's scheme out of its scope: the origin check compares
                # it (chat/guards/origin.py). The proxy's X-Forwarded-Proto with --proxy-headers.
                proxied = getattr(protocol, "client_scheme", None)
                tls = ISSLTransport.providedBy(protocol.transport)
                secure = proxied in {"https", "wss"} if proxied else tls
                scope["scheme"] = "wss" if secure else "ws"
                scope["extensions"] = {
                    **(scope.get("extensions") or {}),
                    WEBSOCKET_WRITER: DirectWriter(protocol),
                }
            inbox = Inbox()
            if scope.get("type") == "http":
                writer = DirectHttpWriter(protocol)
                self.connections[protocol]["http_writer"] = writer  # goes with the connection
                scope["extensions"] = {
                    **(scope.get("extensions") or {}),
                    HTTP_WRITER: writer,
                    HTTP_DISCONNECT: inbox.watch_disconnect,
                }
            scope.setdefault("asgi", {"version": "3.0"})
            instance = self.application(
                scope=scope, receive=inbox.get, send=partial(self.handle_reply, protocol)
            )
            if protocol not in self.connections:
                return None
            future = asyncio.ensure_future(instance)
            self.connections[protocol]["application_instance"] = future
            future.add_done_callback(partial(self.application_ended, protocol))
            return inbox

        def application_ended(self, protocol: Any, future: Any) -> None:
            """An application ended: reaped now, not by the next `application_checker` walk (up
            to a second later). Until then a finished request's objects (the request, its
            headers, its task and coroutines) stayed alive, and at a thousand long-polls a
            second they were most of what the cyclic collector walked, in pauses of up to
            100 ms (docs/DECISIONS.md)."""
            details = self.connections.get(protocol)
            if details is not None and details.get("application_instance") is future:
                self.check_application(protocol)

        def protocol_disconnected(self, protocol: Any) -> None:
            """daphne's (the time a connection ended, for the checks), and a connection whose
            application already ended is forgotten at once."""
            super().protocol_disconnected(protocol)
            details = self.connections.get(protocol)
            if details is not None and "application_instance" not in details:
                del self.connections[protocol]

        def in_slices(self, visit: Any, again_after: float, again: Any) -> None:
            """`visit(protocol)` for every connection, CHECK_SLICE per turn of the event loop,
            then `again` in `again_after` seconds. A connection gone meanwhile is skipped."""
            InSlices(self.connections, visit, again_after, again).step(0)

        def application_checker(self) -> None:
            """daphne's, in slices (CHECK_SLICE): reap applications that ended, log their errors."""
            self.in_slices(self.check_application, 1, self.application_checker)

        def timeout_checker(self) -> None:
            """daphne's, in slices (CHECK_SLICE): timeouts and keep-alive pings."""
            self.in_slices(lambda protocol: protocol.check_timeouts(), 2, self.timeout_checker)

        def check_application(self, protocol: Any) -> None:
            """What daphne's `application_checker` does for one connection: cancel an
            application that outlived its closed connection by `application_close_timeout`,
            log one that failed (and close its connection), forget a connection once both ended."""
            details = self.connections[protocol]
            disconnected = details.get("disconnected")
            instance = details.get("application_instance")
            overdue = disconnected and time.time() - disconnected > self.application_close_timeout
            if overdue and instance is not None and not instance.done():
                logger.warning("application of %r took too long to shut down; cancelled", protocol)
                instance.cancel()
            if instance is not None and instance.done():
                error = None if instance.cancelled() else instance.exception()
                if isinstance(error, KeyboardInterrupt):
                    self.stop()  # the application asks the server to stop
                elif error is not None:
                    logger.error("Exception inside application: %s", error, exc_info=error)
                    if not disconnected:
                        protocol.handle_exception(error)
                del details["application_instance"]
                instance = None
            if instance is None and disconnected:
                del self.connections[protocol]

        def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
            """daphne's access log (its `action_logger`), with secret query parameters redacted:
            an overlay URL carries the room's key (docs/OPERATIONS.md)."""
            if isinstance(details.get("path"), str):
                details = {**details, "path": redacted_path(details["path"])}
            super().log_action(protocol, action, details)

        def listen_success(self, port: Any) -> None:
            # Fail bad connections with a close frame, not a dropped socket: a client that
            # sends an oversized frame then reads close code 1009 instead of an abnormal 1006.
            # (autobahn copies options from the factory into each new connection.)
            self.ws_factory.setProtocolOptions(failByDrop=False)
            # Options read from the class, not copied into every connection; the handshake's
            # request dropped once open (chat/transports/lean_protocol.py).
            self.ws_factory.protocol = lean_protocol_class(self.ws_factory)
            self._ports.append(port)
            super().listen_success(port)
            if len(self._ports) == 1:
                # Everything loaded so far (Django, the apps, their modules) lives as long as the
                # process: out of the collector's way, so a full collection walks only what the
                # connections made, not the whole framework again (docs/DECISIONS.md).
                gc.collect()
                gc.freeze()
                from django.conf import settings

                from chat.domain.moderation import delay
                from chat.transports.direct_poll import answer_directly
                from webhooks.runner import start_with_server

                if settings.CHAT_DIRECT_POLLS:
                    self.direct_poll = answer_directly  # chat/transports/bounded.py

                start_with_server()  # webhook deliveries: no extra command (docs/OPERATIONS.md)
                delay.start_with_server()  # chat delay: releases delayed messages on time

        def kill_all_applications(self) -> Any:
            """Twisted's last step before it closes the connections on SIGTERM (daphne's own
            only cancels every application): `stop_gracefully`."""
            return defer.Deferred.fromFuture(asyncio.ensure_future(self.stop_gracefully()))

        async def stop_gracefully(self) -> None:
            """New connections are refused (a proxy tries another process), requests in
            progress finish, every application ends, and the hub leaves its rooms so the
            online lists drop this process's members at once (docs/OPERATIONS.md)."""
            for port in self._ports:
                port.stopListening()
            for _ in range(int(SHUTDOWN_DRAIN_SECS / DRAIN_POLL_SECS)):
                if not self._requests_in_progress():
                    break
                await asyncio.sleep(DRAIN_POLL_SECS)
            await super().kill_all_applications().asFuture(asyncio.get_running_loop())

            from chat.realtime.hub import leave_rooms
            from webhooks.runner import stop as stop_webhooks

            stop_webhooks()  # an attempt in flight is claimed; another process sends it after the lease
            from chat.domain.moderation import delay

            delay.stop()  # a message left waiting is released by another process's sweep, or after a restart

            try:
                async with asyncio.timeout(SHUTDOWN_LEAVE_SECS):
                    await leave_rooms()
            except TimeoutError:
                logger.warning("leaving the rooms took over %s s (the TTL ends it)", SHUTDOWN_LEAVE_SECS)

        def _requests_in_progress(self) -> bool:
            """An HTTP request's application still runs, and it is not a held one."""
            for details in list(self.connections.values()):
                instance = details.get("application_instance")
                writer = details.get("http_writer")
                if instance is not None and not instance.done() and writer is not None and not writer.held:
                    return True
            return False

    class ChatCommandLine(CommandLineInterface):
        server_class = ChatServer

    return ChatCommandLine()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args, extra = parser.parse_known_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    gc.set_threshold(*GC_THRESHOLDS)
    _command_line().run(daphne_argv(args.host, args.port, extra))


if __name__ == "__main__":
    main(sys.argv[1:])
