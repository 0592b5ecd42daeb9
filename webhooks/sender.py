"""One POST of a delivery to the checked address, with a deadline, never following a redirect."""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from .errors import WebhookError
from .ssrf import Target, resolve

EXCERPT_MAX_CHARS = 500  # of the answer's body kept in the delivery log
READ_MAX_BYTES = 4096  # read at most this much of an answer (only the excerpt is kept)
USER_AGENT = "chat-danmaku-webhooks/1"
STALE = "stale_connection"  # a kept-alive connection the receiver had closed: sent again once


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no HTTP answer
    error: str  # a stable code when there was no answer: timeout, refused, private_address, ...
    latency_ms: int
    excerpt: str
    retry_after: str | None  # the answer's Retry-After header, as sent


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with the URL's host name for SNI and the certificate check."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = _open(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = _open(self._address, self.port, self.timeout)


def _open(address: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the checked address. No Nagle: http.client sends the headers and the
    body in two writes, and on a kept-alive connection the body would wait for the receiver's
    delayed ACK (40 ms per attempt, measured)."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` on a connection of its own."""
    session = Session(url)
    try:
        return session.post(body, headers)
    finally:
        session.close()


class Session:
    """Attempts to one endpoint over one kept-alive connection (a batch of first attempts).
    The name is resolved and checked when the connection opens; it lives no longer than the
    batch, so each batch checks again. A redirect is an answer like any other (3xx: a failed
    attempt); it is never followed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: http.client.HTTPConnection | None = None
        self.path = "/"  # of the URL, once resolved

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def post(self, body: bytes, headers: dict[str, str]) -> Outcome:
        reused = self.connection is not None
        outcome = self._post(body, headers)
        if reused and outcome.error == STALE:
            # The receiver closed the idle connection before reading this request: once more
            # on a new one (had it read it, the repeat carries the same webhook-id).
            outcome = self._post(body, headers)
        return outcome

    def _post(self, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.monotonic()
        reused = self.connection is not None

        def outcome(
            status: int | None, error: str = "", excerpt: str = "", retry_after: str | None = None
        ) -> Outcome:
            latency = int((time.monotonic() - started) * 1000)
            return Outcome(status, error, latency, excerpt[:EXCERPT_MAX_CHARS], retry_after)

        timeout = settings.WEBHOOK_TIMEOUT_SECONDS
        if self.connection is None:
            try:
                target = resolve(self.url)
            except WebhookError as error:
                return outcome(None, error.code, error.message)
            connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
            self.connection = connection_class(target, timeout)
            self.path = target.path
        connection = self.connection
        all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
        # The socket's timeout bounds each read; this bounds the whole attempt (a receiver that
        # drips its answer a byte at a time is cut off too).
        deadline = watchdog.watch(connection, started + timeout)
        keep = False
        try:
            connection.request("POST", self.path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read(READ_MAX_BYTES)
            keep = response.isclosed() and not response.will_close  # all read, and reusable
            return outcome(
                response.status,
                excerpt=data.decode("utf-8", "replace"),
                retry_after=response.getheader("Retry-After"),
            )
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
            if time.monotonic() - started >= timeout:  # the watchdog ended it
                return outcome(None, "timeout", f"No answer within {timeout} s.")
            if reused:
                return outcome(None, STALE, str(error))
            return outcome(None, "connection_error", f"{type(error).__name__}: {error}")
        except TimeoutError:
            return outcome(None, "timeout", f"No answer within {timeout} s.")
        except ssl.SSLError as error:
            return outcome(None, "tls_error", str(error))
        except ConnectionRefusedError:
            return outcome(None, "connection_refused", "The connection was refused.")
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() - started >= timeout:
                return outcome(None, "timeout", f"No answer within {timeout} s.")
            return outcome(None, "connection_error", f"{type(error).__name__}: {error}")
        finally:
            watchdog.forget(deadline)
            if not keep:
                self.close()


def _abort(connection: http.client.HTTPConnection) -> None:
    """End an attempt at its deadline: the blocked read fails at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """One thread for every attempt's deadline in the process. A thread per attempt (a
    `threading.Timer`) cost a thread start per delivery: 15% of a sender's time at 700
    deliveries/s, most of it waiting for the GIL to let the new thread run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, http.client.HTTPConnection]] = []
        self._live: set[int] = set()  # tickets of attempts still running
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, connection: http.client.HTTPConnection, deadline: float) -> int:
        """Shut the connection's socket at `deadline` (monotonic) unless forgotten first."""
        with self._lock:
            ticket = next(self._tickets)
            heapq.heappush(self._heap, (deadline, ticket, connection))
            self._live.add(ticket)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhooks-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][1] == ticket:
                self._wake.notify()  # the earliest deadline now
        return ticket

    def forget(self, ticket: int) -> None:
        with self._lock:
            self._live.discard(ticket)

    def _run(self) -> None:
        while True:
            due: list[http.client.HTTPConnection] = []
            with self._lock:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][1] not in self._live):
                    _, ticket, connection = heapq.heappop(self._heap)
                    if ticket in self._live:
                        self._live.discard(ticket)
                        due.append(connection)
                if not due:
                    self._wake.wait(self._heap[0][0] - now if self._heap else None)
            for connection in due:
                _abort(connection)


watchdog = Watchdog()
