"""`manage.py runwebhooks`: send webhook deliveries in this process (production's worker, with
WEBHOOK_WORKER=off on the servers; deploy/chat-webhooks.service)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from webhooks import runner

# The sender's process runs at this OS niceness, its threads with it: where it shares cores
# with the servers, their posts get a core first and deliveries take what is left (most of
# it). Not done to the server's own sender threads: a lowered thread that holds the GIL when
# preempted keeps the event loop waiting (measured worse). docs/DECISIONS.md, issue 15.
SENDER_NICENESS = 10


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
        os.nice(SENDER_NICENESS)
        runner.start(threads)
        self.stdout.write(f"Sending webhook deliveries with {threads} threads")
        stopped.wait()
        runner.stop()
