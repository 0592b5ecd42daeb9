"""Running the queue: the library's database worker in threads (in the server by default, or
in `manage.py runwebhooks`), plus one thread that turns commit notices into fan-out tasks and
sweeps for work a stopped process left."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from config.sqlite.writers import mark_background

from .delivery import prune, recover_stuck
from .durability import bookkeeping
from .fanout import has_work, rooms_behind, rooms_with_endpoints
from .tasks import QUEUE, enqueue_fan_out

logger = logging.getLogger(__name__)

GATHER_SECONDS = 0.1  # notices within this are one fan-out per room (a burst is one task)
# The same, when the senders are the server's own threads: they wake less often, so a post
# meets their bursts (the GIL, a core) less often. At 50 posts/s with ten endpoints the write
# path's p99 was 19-23 ms with it against 20-88 ms with 0.1; in runwebhooks' own process the
# longer fan-outs it makes did worse (58-72 ms against 29-46), so that keeps 0.1. Deliveries
# start up to 0.15 s later. docs/BENCHMARKS.md, issue 15 requirement 9.
GATHER_SECONDS_IN_SERVER = 0.25
SWEEP_SECONDS = 30.0  # rooms left behind and stuck deliveries are looked for this often
POLL_INTERVAL_SECONDS = 0.5  # an idle worker thread looks for due tasks this often
PENDING_ROOMS_MAX = 10_000  # rooms noticed and not yet queued; past it the sweep catches up


class Notices:
    """Room ids whose logs grew, from the writers' threads to the nudge thread: a set, so a
    burst in one room is one entry; bounded, so a stalled database cannot grow it."""

    def __init__(self) -> None:
        self._rooms: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.active = False
        self.gather = GATHER_SECONDS

    def add(self, room_id: int) -> None:
        if not self.active:
            return
        with self._lock:
            if len(self._rooms) < PENDING_ROOMS_MAX:
                self._rooms.add(room_id)
        self._wake.set()

    def take(self, timeout: float) -> set[int]:
        self._wake.wait(timeout)
        time.sleep(self.gather)
        with self._lock:
            rooms, self._rooms = self._rooms, set()
            self._wake.clear()
        return rooms

    def stop(self) -> None:
        self.active = False
        self._wake.set()


notices = Notices()


class Runner:
    """The nudge thread, and `threads` worker threads started when there is webhook work: at
    once (`eager`, `runwebhooks`), or once an endpoint or a waiting delivery exists (a server,
    so that one with no webhooks polls no task table)."""

    def __init__(self, threads: int, eager: bool, gather: float = GATHER_SECONDS) -> None:
        self.threads = threads
        self.eager = eager
        self.gather = gather
        self.workers: list[Worker] = []
        self.running = False

    def start(self) -> None:
        self.running = True
        notices.active = True
        notices.gather = self.gather
        threading.Thread(target=self._nudge, name="webhooks-nudge", daemon=True).start()
        if self.eager:
            self._start_workers()

    def _start_workers(self) -> None:
        if self.workers or not self.running:
            return
        for index in range(self.threads):
            worker = Worker(
                queue_names=[QUEUE],
                interval=POLL_INTERVAL_SECONDS,
                batch=False,
                backend_name="default",
                startup_delay=True,
                max_tasks=None,
                worker_id=get_random_string(32),
                excluded_queue_names=[],
            )
            self.workers.append(worker)
            threading.Thread(target=self._work, args=(worker,), name=f"webhooks-{index}", daemon=True).start()
        if self.threads:
            logger.info("webhook delivery: %s worker threads", self.threads)

    def stop(self) -> None:
        self.running = False
        notices.stop()
        for worker in self.workers:
            worker.running = False

    def _work(self, worker: Worker) -> None:
        mark_background()  # on SQLite, posts waiting for the write lock go first
        while self.running:
            try:
                worker.run()
            except Exception:
                logger.exception("webhook worker failed; restarting it")
                time.sleep(POLL_INTERVAL_SECONDS)
        close_old_connections()

    def _nudge(self) -> None:
        mark_background()
        last_sweep = -SWEEP_SECONDS  # the first sweep at once: a restart resumes without waiting
        while self.running:
            rooms = notices.take(timeout=SWEEP_SECONDS) if last_sweep > 0 else set()
            try:
                if time.monotonic() - last_sweep >= SWEEP_SECONDS:
                    self._sweep(rooms)
                    last_sweep = time.monotonic()
                rooms = rooms_with_endpoints(rooms)
                if rooms:
                    self._start_workers()
                    with bookkeeping():  # a lost task is found again by the next sweep
                        for room_id in sorted(rooms):
                            enqueue_fan_out(room_id)
            except Exception:
                logger.exception("queueing webhook fan-outs failed; the next sweep retries")
            finally:
                close_old_connections()

    def _sweep(self, rooms: set[int]) -> None:
        """Rooms left behind, attempts left stuck, old rows; workers if there is anything."""
        rooms |= set(rooms_behind())
        if has_work():
            self._start_workers()
        recovered = recover_stuck()
        if recovered:
            logger.warning("queued %s stuck webhook deliveries again", recovered)
        prune()


_runner: Runner | None = None


def start(threads: int, eager: bool = True, gather: float = GATHER_SECONDS) -> Runner:
    """Start the nudge thread and `threads` worker threads, once per process."""
    global _runner
    if _runner is None:
        _runner = Runner(threads, eager, gather)
        _runner.start()
    return _runner


def start_with_server() -> None:
    """Called by the server once it listens: its commits are turned into fan-out tasks, and
    with WEBHOOK_WORKER=thread (the default) it sends them too, so deliveries work after
    `make run` alone. With WEBHOOK_WORKER=off, `manage.py runwebhooks` sends them."""
    in_server = settings.WEBHOOK_WORKER == "thread"
    start(
        settings.WEBHOOK_WORKER_THREADS if in_server else 0,
        eager=False,
        gather=GATHER_SECONDS_IN_SERVER if in_server else GATHER_SECONDS,
    )


def stop() -> None:
    global _runner
    if _runner is not None:
        _runner.stop()
        _runner = None
