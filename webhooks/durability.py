"""The sender's bookkeeping transactions, committed without waiting for the disk on PostgreSQL.

Each of them (a claim, a record of attempts, a fan-out) is safe to lose in a crash: delivery is
at least once, and a lost claim or record only means an attempt is made again under the same
`webhook-id`; a lost fan-out loses its cursor move with its deliveries, so they are made again.
Waiting for the WAL flush at every commit cost the sender more than sending (ten flushes per
batch of ten endpoints). `SET LOCAL` ends with the transaction, so a pooled connection never
carries it to a post (whose commit must be durable). SQLite runs with synchronous=NORMAL in
WAL mode already (settings), where a commit waits for no flush either."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def bookkeeping() -> Iterator[None]:
    """`transaction.atomic()`, with an asynchronous commit on PostgreSQL."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield
