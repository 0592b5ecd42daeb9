"""A request thread's database connections are closed when the ASGI request ends."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def in_a_request_thread(sender: Any) -> bool:
    """Open this thread's connection, end a request sent by `sender`; still open after?"""
    result: list[bool] = []

    def run() -> None:
        connection.ensure_connection()
        request_finished.send(sender=sender)
        result.append(connection.connection is not None)
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return result[0]


def test_an_asgi_request_closes_its_threads_connections() -> None:
    assert in_a_request_thread(ASGIHandler) is False


def test_other_handlers_keep_theirs() -> None:
    # Django's test client and WSGI keep the usual CONN_MAX_AGE behaviour: a persistent
    # connection (SQLite here) stays open; PostgreSQL's pooled ones (CONN_MAX_AGE 0) go back.
    persistent = connection.settings_dict["CONN_MAX_AGE"] != 0
    assert in_a_request_thread(WSGIHandler) is persistent
