"""Trips to the database thread, shared by the writes that are waiting for one.

Every ORM call of an async consumer runs on one thread (`database_sync_to_async`), and each
trip there and back costs two thread switches and two GIL hand-offs. While the event loop is
busy fanning out, each hand-off can wait out the interpreter's switch interval, so at a few
hundred posts a second the trips themselves, not the work, were what limited the write path.
`run_batched` queues the call; one trip runs every call queued by then, in order, and hands
each caller its own result or exception. A quiet room gets a trip of one, so no added latency;
a busy one gets fewer trips carrying more calls.

A trip is also one transaction (group commit): the posts it carries take one BEGIN and one
COMMIT between them, and the log's pages are written once per trip instead of once per post.
A refusal (a ChatError from a gate) touches nothing; a database error inside the trip rolls
the whole trip back, and every call that had succeeded in it then fails with that error (its
caller is told the write failed, which it did).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.db import DatabaseError, connection, transaction

T = TypeVar("T")

log = logging.getLogger(__name__)

# Calls carried by one trip at most: a long trip would delay the first of them.
TRIP_MAX_CALLS = 64

Pending = tuple[Callable[[], Any], "asyncio.Future[Any]"]


class _Queue:
    """Calls waiting for a trip, in one queue per key (a room). A trip takes one call from each
    key in turn, round-robin across trips, so a flood of posts into one room delays another
    room's post by at most the trip in progress, not by the whole flood; each key's calls stay
    in order."""

    def __init__(self) -> None:
        self.pending: dict[object, deque[Pending]] = {}
        self.draining: asyncio.Task[None] | None = None

    def add(self, key: object, call: Pending) -> None:
        waiting = self.pending.get(key)
        if waiting is None:
            waiting = self.pending[key] = deque()
        waiting.append(call)

    def next_trip(self) -> list[Pending]:
        trip: list[Pending] = []
        while self.pending and len(trip) < TRIP_MAX_CALLS:
            for key in list(self.pending):
                waiting = self.pending.pop(key)
                trip.append(waiting.popleft())
                if waiting:
                    self.pending[key] = waiting  # to the back of the line
                if len(trip) >= TRIP_MAX_CALLS:
                    break
        return trip

    def take_all(self) -> list[Pending]:
        left = [call for waiting in self.pending.values() for call in waiting]
        self.pending = {}
        return left

    async def drain(self) -> None:
        trip: list[Pending] = []
        try:
            while self.pending:
                trip = self.next_trip()
                outcomes = await database_sync_to_async(_run_all)([call for call, _ in trip])
                for (_, future), (ok, value) in zip(trip, outcomes, strict=True):
                    if future.done():
                        continue  # its caller was cancelled; the call still ran, in order
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
                trip = []
        except BaseException as error:
            # The trip itself failed (cancelled at shutdown): fail everything still waiting.
            failure = error if isinstance(error, Exception) else RuntimeError("the server is stopping")
            for _, future in [*trip, *self.take_all()]:
                if not future.done():
                    future.set_exception(failure)
            raise
        finally:
            self.draining = None


class _RolledBack(Exception):
    pass


class _Trip(threading.local):
    rollback_hooks: list[Callable[[], object]] | None = None


_trip = _Trip()


def on_rollback(hook: Callable[[], object]) -> None:
    """Call `hook` if the trip running this call is rolled back after the call succeeded (undo
    what the call did outside the database). Outside a trip, a call that returned was written:
    there is nothing to undo, and the hook is dropped."""
    if _trip.rollback_hooks is not None:
        _trip.rollback_hooks.append(hook)


def _run_all(calls: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
    hooks: list[Callable[[], object]] = []
    _trip.rollback_hooks = hooks
    try:
        outcomes, committed = _run_in_transaction(calls)
    finally:
        _trip.rollback_hooks = None
    if not committed:
        for hook in hooks:
            try:
                hook()
            except Exception:
                log.exception("undoing a rolled-back write failed")
    return outcomes


def _run_in_transaction(calls: list[Callable[[], Any]]) -> tuple[list[tuple[bool, Any]], bool]:
    """Each call's outcome, and whether the trip was committed."""
    outcomes: list[tuple[bool, Any]] = []
    failure: Exception | None = None
    try:
        with transaction.atomic():
            for call in calls:
                try:
                    outcomes.append((True, call()))
                except Exception as error:  # handed to that call's caller, as if it had run alone
                    outcomes.append((False, error))
                    if failure is None and isinstance(error, DatabaseError):
                        failure = error
            if connection.needs_rollback:
                raise _RolledBack
    except _RolledBack:
        pass
    except Exception as error:  # the commit itself failed
        failure = error
    else:
        return outcomes, True
    failure = failure or DatabaseError("the transaction was rolled back")
    failed = [(False, failure) if ok else (ok, value) for ok, value in outcomes]
    return failed + [(False, failure) for _ in calls[len(outcomes) :]], False


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = weakref.WeakKeyDictionary()


async def run_batched(function: Callable[..., T], *args: Any, key: object = None) -> T:
    """`await database_sync_to_async(function)(*args)`, sharing the trip with other calls.
    Calls with the same `key` (a room) run in the order they were made, so one connection's
    posts commit in order; calls of different keys take turns (`_Queue`)."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = _Queue()
    future: asyncio.Future[T] = loop.create_future()
    queue.add(key, (lambda: function(*args), future))
    if queue.draining is None:
        queue.draining = loop.create_task(queue.drain())
    return await future
