"""The one bridge from domain code to the realtime layer: publish after commit."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .groups import room_group_name
from .wire import WireEvent

logger = logging.getLogger(__name__)

ROOM_EVENT_MESSAGE = "room.event"

# The event loop of this process's hub (daphne's loop), once it runs. Domain code runs in
# worker threads; handing the send to that loop without waiting keeps a post from queueing
# behind the loop's work. Without a hub (management commands) the send is made in place.
_hub_loop: asyncio.AbstractEventLoop | None = None


def use_event_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    global _hub_loop
    _hub_loop = loop


def publish_after_commit(room_id: int, event: WireEvent) -> None:
    """Hand an event to every process's hub once the transaction that wrote it commits."""
    transaction.on_commit(partial(_publish, room_id, event))


def _publish(room_id: int, event: WireEvent) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    group = room_group_name(room_id)
    message = {"type": ROOM_EVENT_MESSAGE, "room_id": room_id, "event": event}
    loop = _hub_loop
    if loop is not None and loop.is_running() and not _running_on(loop):
        # Calls from one thread are scheduled in call order; the hub orders by seq anyway.
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        future.add_done_callback(partial(_report_failure, room_id, event.get("seq")))
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        _report_failure(room_id, event.get("seq"), None)


def _running_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _report_failure(room_id: int, seq: Any, future: Future[None] | None) -> None:
    if future is not None and (future.cancelled() or future.exception() is None):
        return
    # The event is committed; a hub that misses it sees the seq gap on the next event (or in
    # its periodic check) and re-reads the log: a failed publish delays delivery, never loses it.
    logger.error(
        "publishing room %s seq %s failed", room_id, seq, exc_info=future.exception() if future else True
    )
