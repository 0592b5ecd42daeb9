"""The SQLite backend's writers take turns in the order they asked (config/sqlite)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from chat.models import Room
from config.sqlite.writers import WriterQueue, queue_for


def wait_until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_turns_go_in_the_order_asked() -> None:
    queue = WriterQueue()
    assert queue.acquire(1)
    order: list[int] = []

    def writer(number: int) -> None:
        assert queue.acquire(5)
        order.append(number)
        queue.release()

    threads = []
    for number in range(5):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        threads.append(thread)
        wait_until(lambda n=number: len(queue._waiting) == n + 1)
    queue.release()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_waiter_gives_up_after_its_timeout_and_leaves_the_line() -> None:
    queue = WriterQueue()
    assert queue.acquire(1)
    started = time.monotonic()
    got = []
    thread = threading.Thread(target=lambda: got.append(queue.acquire(0.2)))
    thread.start()
    thread.join(5)
    assert got == [False]
    assert 0.2 <= time.monotonic() - started < 2
    assert not queue._waiting
    queue.release()
    assert queue.acquire(0.1)  # free again, nobody queued behind a ghost


def test_the_turn_of_a_thread_that_ended_inside_it_moves_on() -> None:
    queue = WriterQueue()
    holder = threading.Thread(target=lambda: queue.acquire(1))
    holder.start()
    holder.join(5)
    started = time.monotonic()
    assert queue.acquire(5)  # the holder never released; its thread is gone
    assert time.monotonic() - started < 3


@pytest.mark.django_db(transaction=True)
def test_a_second_transaction_waits_in_the_queue_not_in_sqlites_busy_handler() -> None:
    if connection.settings_dict["ENGINE"] != "config.sqlite":
        pytest.skip("another database backend")
    queue = queue_for(str(connection.settings_dict["NAME"]))
    room = Room.objects.create(slug="turns", title="Turns")
    finished = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with transaction.atomic():
                Room.objects.filter(pk=room.pk).update(title="second")
            finished.set()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        Room.objects.filter(pk=room.pk).update(title="first")
        assert queue._owner is threading.current_thread()
        thread = threading.Thread(target=second_writer)
        thread.start()
        wait_until(lambda: len(queue._waiting) == 1)  # queued here, not sleeping in SQLite
        assert not finished.is_set()
    # COMMIT hands the turn over at once.
    assert finished.wait(2)
    thread.join(5)
    assert not errors
    assert queue._owner is None
    room.refresh_from_db()
    assert room.title == "second"


@pytest.mark.django_db(transaction=True)
def test_a_failed_begin_or_a_rollback_gives_the_turn_back() -> None:
    if connection.settings_dict["ENGINE"] != "config.sqlite":
        pytest.skip("another database backend")
    queue = queue_for(str(connection.settings_dict["NAME"]))

    def fails_inside() -> None:
        with transaction.atomic():
            Room.objects.create(slug="gone", title="Gone")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails_inside()
    assert queue._owner is None
    assert not Room.objects.filter(slug="gone").exists()

    assert queue.acquire(1)  # another thread of the process holds the turn ...
    holder = threading.current_thread()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with transaction.atomic():
                Room.objects.create(slug="late", title="Late")
        except OperationalError as error:
            errors.append(error)
        finally:
            connections.close_all()

    options = connection.settings_dict["OPTIONS"]
    saved = options["timeout"]
    options["timeout"] = 0.2  # ... longer than this writer waits
    try:
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(5)
    finally:
        options["timeout"] = saved
    assert len(errors) == 1
    assert "locked" in str(errors[0])
    assert queue._owner is holder
    queue.release()
    assert queue._owner is None
