"""The sender's bookkeeping commits without waiting for the disk on PostgreSQL, and only inside
its own transactions (webhooks/durability.py)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from webhooks.durability import bookkeeping

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
