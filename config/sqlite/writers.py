"""Writers of one SQLite database in one process take turns in the order they asked.

SQLite has one write lock per database. A connection that finds it taken sleeps in SQLite's
busy handler, in growing steps (1, 2, 5, 10 ... then 100 ms), and tries again: a short
transaction ahead of it can cost it 100 ms, and with other writers busy it can lose the race
again and again (a post waited 530 ms behind the webhook senders' brief transactions,
docs/DECISIONS.md). Here the process's writers queue instead: each transaction waits for the
one before it to COMMIT or ROLLBACK and is handed the turn at once. The turn is only an
optimisation over SQLite's own lock, which still guards correctness (and other processes).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHECK_OWNER_SECS = 1.0  # a waiter looks this often whether the turn's holder still lives
BACKGROUND_WAIT_MAX_SECS = 0.2  # a background writer goes next once it has waited this long


_thread_kind = threading.local()


def mark_background() -> None:
    """This thread's writes are background work (the webhook senders): when the write path's
    writers wait too, they go first, and a background writer waits at most
    BACKGROUND_WAIT_MAX_SECS behind them."""
    _thread_kind.background = True


@contextmanager
def background_writes() -> Iterator[None]:
    """This thread's writes are background work for the block's duration only (an import's
    final copy, in a request thread that serves other requests afterwards)."""
    before = is_background()
    _thread_kind.background = True
    try:
        yield
    finally:
        _thread_kind.background = before


def is_background() -> bool:
    return getattr(_thread_kind, "background", False)


class WriterQueue:
    """Turns handed over directly to the next waiter: first come, first served, except that
    background writers let the others go first (up to BACKGROUND_WAIT_MAX_SECS)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: threading.Thread | None = None
        self._waiting: deque[tuple[threading.Event, threading.Thread]] = deque()
        self._background: deque[tuple[threading.Event, threading.Thread, float]] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait for this thread's turn; False after `timeout` seconds without it."""
        me = threading.current_thread()
        with self._mutex:
            if self._owner is None:
                self._owner = me
                return True
            turn = threading.Event()
            entry: Any
            if is_background():
                entry = (turn, me, time.monotonic())
                line: deque[Any] = self._background
            else:
                entry = (turn, me)
                line = self._waiting
            line.append(entry)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if turn.wait(max(0.0, min(CHECK_OWNER_SECS, left))):
                return True
            with self._mutex:
                if turn.is_set():
                    return True
                owner = self._owner
                if owner is not None and not owner.is_alive():
                    # Its thread ended inside a transaction (its connection, when collected,
                    # rolls back in SQLite): the turn moves on rather than waiting forever.
                    self._hand_over()
                    if turn.is_set():
                        return True
                if time.monotonic() >= deadline:
                    line.remove(entry)
                    return False

    def release(self) -> None:
        with self._mutex:
            self._hand_over()

    def _hand_over(self) -> None:
        background_due = self._background and (
            not self._waiting or time.monotonic() - self._background[0][2] >= BACKGROUND_WAIT_MAX_SECS
        )
        if background_due:
            turn, thread, _ = self._background.popleft()
        elif self._waiting:
            turn, thread = self._waiting.popleft()
        else:
            self._owner = None
            return
        self._owner = thread
        turn.set()


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def queue_for(name: str) -> WriterQueue:
    """The queue of the database file `name` (every connection to it in this process)."""
    with _queues_lock:
        queue = _queues.get(name)
        if queue is None:
            queue = _queues[name] = WriterQueue()
        return queue
