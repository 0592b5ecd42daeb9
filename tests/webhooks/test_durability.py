"""The sender's bookkeeping commits without waiting for the disk on PostgreSQL, and only inside
its own transactions, or in `runwebhooks`' own process (webhooks/durability.py)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from webhooks.durability import asynchronous_process, bookkeeping

pytestmark = pytest.mark.django_db(transaction=True)


def setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def test_asynchronous_commit_inside_bookkeeping_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's setting; this suite's PostgreSQL run checks it")
    assert setting() == "on"
    with bookkeeping():
        assert setting() == "off"
    assert setting() == "on"  # not carried to the next user of a pooled connection
    with transaction.atomic():
        assert setting() == "on"  # a post's transaction stays durable


def test_the_worker_process_commits_asynchronously_on_every_connection() -> None:
    """`runwebhooks` calls asynchronous_process() first: its connections, pooled or not, and
    the queue library's transactions on them, wait for no WAL flush."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's setting; this suite's PostgreSQL run checks it")
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = dict(options)
    assert setting() == "on"
    try:
        assert asynchronous_process()
        assert setting() == "off"
        with transaction.atomic():
            assert setting() == "off"
        seen: list[str] = []

        def in_a_thread() -> None:
            try:
                seen.append(setting())  # another thread: another connection from the pool
            finally:
                connection.close()

        thread = threading.Thread(target=in_a_thread)
        thread.start()
        thread.join()
        assert seen == ["off"]
        assert asynchronous_process()  # twice is once
        assert options["options"].count("synchronous_commit") == 1
    finally:
        options.clear()
        options.update(saved)
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()
    assert setting() == "on"
