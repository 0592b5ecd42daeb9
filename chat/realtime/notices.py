"""Notices to every process's hub that concern no one room: today, "some API tokens ended"
(revoked by their owner or staff), so that each process's token watch looks at once instead of
at its next periodic check (chat/transports/token_watch.py).

Best effort: a channel layer drops messages silently when a channel is full, so a listener never
depends on a notice arriving; it only arrives sooner than the listener's own check.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .groups import notice_group_name
from .publish import hub_loop

logger = logging.getLogger(__name__)

NOTICE_MESSAGE = "hub.notice"
TOKENS_ENDED = "tokens_ended"  # API tokens were revoked: connections opened with them end


def announce_after_commit(topic: str) -> None:
    """Send `topic` to every process's hub once the current transaction commits."""
    transaction.on_commit(partial(_announce, topic))


def _announce(topic: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    group, message = notice_group_name(), {"type": NOTICE_MESSAGE, "topic": topic}
    loop = hub_loop()
    try:
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                task = loop.create_task(layer.group_send(group, message))
                task.add_done_callback(_report)
            else:  # a worker thread: handed to the hub's loop, not waited for
                future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
                future.add_done_callback(_report)
            return
        async_to_sync(layer.group_send)(notice_group_name(), message)
    except Exception:
        logger.exception("announcing %s failed", topic)


def _report(future: asyncio.Future[None] | concurrent.futures.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("announcing a notice failed", exc_info=future.exception())
