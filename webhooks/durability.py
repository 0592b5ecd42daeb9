"""The sender's bookkeeping transactions, committed without waiting for the disk on PostgreSQL.

Each of them (a claim, a record of attempts, a fan-out) is safe to lose in a crash: delivery is
at least once, and a lost claim or record only means an attempt is made again under the same
`webhook-id`; a lost fan-out loses its cursor move with its deliveries, so they are made again.
Waiting for the WAL flush at every commit cost the sender more than sending (ten flushes per
batch of ten endpoints). `SET LOCAL` ends with the transaction, so a pooled connection never
carries it to a post (whose commit must be durable). SQLite runs with synchronous=NORMAL in
WAL mode already (settings), where a commit waits for no flush either.

`runwebhooks` goes further: every connection of its process commits asynchronously
(`asynchronous_process`), the queue library's own claims and completions included. Those are
bookkeeping too (a lost claim or completion runs a task again; each attempt is claimed anew in
bookkeeping before it is sent), and each durable commit there was a WAL flush that a post's
commit, on the same server, waited behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, connections, transaction


@contextmanager
def bookkeeping() -> Iterator[None]:
    """`transaction.atomic()`, with an asynchronous commit on PostgreSQL."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


ASYNCHRONOUS = "-c synchronous_commit=off"


def asynchronous_process() -> bool:
    """From now on, every PostgreSQL connection this process opens commits asynchronously
    (libpq's `options`, so the pool's connections too); for `runwebhooks`, whose process does
    nothing but bookkeeping. Call it before the worker threads start. True if any database
    was PostgreSQL."""
    changed = False
    for alias in connections:
        wrapper = connections[alias]
        if wrapper.vendor != "postgresql":
            continue
        wrapper.close()
        close_pool = getattr(wrapper, "close_pool", None)
        if close_pool is not None:
            close_pool()  # its connections were opened with the old options
        options = wrapper.settings_dict.setdefault("OPTIONS", {})
        given = str(options.get("options", ""))
        if ASYNCHRONOUS not in given:
            options["options"] = f"{given} {ASYNCHRONOUS}".strip()
        changed = True
    return changed
