# mypy: disable-error-code="misc,attr-defined"
# (the type stubs leave out the backend's private methods and `transaction_mode`)
"""Django's SQLite backend, with the process's write transactions taking turns (writers.py)
instead of meeting in SQLite's busy handler, and the one whose turn it is polling for the
lock every millisecond while another process holds it. Used for every SQLite DATABASE_URL."""

from __future__ import annotations

import sqlite3
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from .writers import WriterQueue, queue_for

LOCKING_MODES = {"IMMEDIATE", "EXCLUSIVE"}  # take the write lock at BEGIN (DEFERRED does not)
BEGIN_RETRY_SECS = 0.001  # while another process holds the write lock


class DatabaseWrapper(base.DatabaseWrapper):
    _turn: WriterQueue | None = None  # the queue whose turn this connection holds

    def _start_transaction_under_autocommit(self) -> None:
        # The settings make every transaction IMMEDIATE (the task queue's claims EXCLUSIVE):
        # each takes the write lock at BEGIN, so each waits its turn first.
        if self.transaction_mode not in LOCKING_MODES:
            super()._start_transaction_under_autocommit()
            return
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if self._turn is None:
            queue = queue_for(str(self.settings_dict["NAME"]))
            if not queue.acquire(timeout):
                raise OperationalError("database is locked (this process's other writers held it)")
            self._turn = queue
        try:
            self._begin_polling(timeout)
        except BaseException:
            self._end_turn()
            raise

    def _begin_polling(self, timeout: float) -> None:
        """BEGIN, trying again every BEGIN_RETRY_SECS while another process holds the lock,
        instead of in SQLite's busy handler, whose sleeps grow to 100 ms. Only the thread
        whose turn it is polls (the rest wait on the queue), so the polling costs the
        process's other threads nothing worth measuring. The busy timeout is off for the BEGIN
        only: statements outside transactions keep SQLite's handler."""
        deadline = time.monotonic() + timeout
        raw = self.connection
        with self.wrap_database_errors:
            raw.execute("PRAGMA busy_timeout = 0")
            try:
                while True:
                    try:
                        raw.execute(f"BEGIN {self.transaction_mode}")
                        return
                    except sqlite3.OperationalError as error:
                        if "locked" not in str(error) or time.monotonic() >= deadline:
                            raise
                    time.sleep(BEGIN_RETRY_SECS)
            finally:
                raw.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")

    def _end_turn(self) -> None:
        queue, self._turn = self._turn, None
        if queue is not None:
            queue.release()

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._end_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._end_turn()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._end_turn()
