"""`manage.py runwebhooks`: send webhook deliveries in this process (production's worker, with
WEBHOOK_WORKER=off on the servers; deploy/chat-webhooks.service)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from webhooks import runner
from webhooks.durability import asynchronous_process
from webhooks.priority import yield_cores


class Command(BaseCommand):
    help = "Send webhook deliveries until SIGTERM or SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=int, default=settings.WEBHOOK_WORKER_THREADS)

    def handle(self, *args: Any, **options: Any) -> None:
        threads = max(1, min(options["threads"], 64))
        stopped = threading.Event()

        def stop(signum: int, frame: Any) -> None:
            stopped.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        lowered = yield_cores()
        asynchronous_process()  # nothing here must wait for the disk (webhooks/durability.py)
        runner.start(threads)
        self.stdout.write(f"Sending webhook deliveries with {threads} threads ({lowered})")
        stopped.wait()
        runner.stop()
