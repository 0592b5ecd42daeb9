"""The one bridge from domain code to the realtime layer: publish after commit."""

from __future__ import annotations

import asyncio
import logging
import weakref
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from chat.domain.wire import WireEvent

from .grip import publish_event as publish_to_pushpin
from .groups import room_group_name

logger = logging.getLogger(__name__)

ROOM_EVENT_MESSAGE = "room.event"  # one event (sent by earlier versions; still understood)
ROOM_EVENTS_MESSAGE = "room.events"  # consecutive events of one room, oldest first
# Events per layer message at most: a burst goes out as several messages.
EVENTS_PER_MESSAGE = 500

# The event loop of this process's hub (daphne's loop), once it runs. Domain code runs in
# worker threads; handing the send to that loop without waiting keeps a post from queueing
# behind the loop's work. Without a hub (management commands) the send is made in place.
_hub_loop: asyncio.AbstractEventLoop | None = None


def use_event_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    global _hub_loop
    _hub_loop = loop


def hub_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of this process's hub, once it runs (notices.py sends through it too)."""
    return _hub_loop


def publish_after_commit(room_id: int, event: WireEvent) -> None:
    """Hand an event to every process's hub once the transaction that wrote it commits."""
    transaction.on_commit(partial(_publish, room_id, event))


def _publish(room_id: int, event: WireEvent) -> None:
    publish_to_pushpin(room_id, event)  # once per committed event, by the committing process (grip.py)
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _hub_loop
    if loop is not None and loop.is_running() and not _running_on(loop):
        # Handed to the loop without waiting; calls from one thread are queued in call order.
        loop.call_soon_threadsafe(_add_to_outbox, loop, layer, room_id, event)
        return
    message = {"type": ROOM_EVENTS_MESSAGE, "room_id": room_id, "events": [event]}
    try:
        async_to_sync(layer.group_send)(room_group_name(room_id), message)
    except Exception:
        _report_failure(room_id, event.get("seq"))


class _Outbox:
    """Events waiting on the hub's loop for the channel layer, per room. While one message is
    on its way to the layer (a Redis round trip or more), the room's next events gather and go
    as the next message: one layer message (and one receive in every process) per batch of
    events instead of per event, in order."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.pending: dict[int, list[WireEvent]] = {}
        self.sending: dict[int, asyncio.Future[None]] = {}  # the room's sender, while it runs

    def add(self, room_id: int, event: WireEvent) -> None:
        self.pending.setdefault(room_id, []).append(event)
        if room_id not in self.sending:
            self.sending[room_id] = asyncio.ensure_future(self._send(room_id))

    async def _send(self, room_id: int) -> None:
        try:
            while events := self.pending.pop(room_id, None):
                for start in range(0, len(events), EVENTS_PER_MESSAGE):
                    part = events[start : start + EVENTS_PER_MESSAGE]
                    message = {"type": ROOM_EVENTS_MESSAGE, "room_id": room_id, "events": part}
                    try:
                        await self.layer.group_send(room_group_name(room_id), message)
                    except Exception:
                        _report_failure(room_id, f"{part[0].get('seq')}-{part[-1].get('seq')}")
        finally:
            self.sending.pop(room_id, None)


_outboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Outbox] = weakref.WeakKeyDictionary()


def _add_to_outbox(loop: asyncio.AbstractEventLoop, layer: Any, room_id: int, event: WireEvent) -> None:
    """Runs on `loop` itself (call_soon_threadsafe), so the outboxes need no lock."""
    outbox = _outboxes.get(loop)
    if outbox is None or outbox.layer is not layer:
        outbox = _outboxes[loop] = _Outbox(layer)
    outbox.add(room_id, event)


def _running_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _report_failure(room_id: int, seqs: Any) -> None:
    """Log a failed send (called from an `except` block). The events are committed; a hub that
    misses them sees the seq gap on the next event (or in its periodic check) and re-reads the
    log: a failed publish delays delivery, never loses it."""
    logger.error("publishing room %s seq %s failed", room_id, seqs, exc_info=True)
