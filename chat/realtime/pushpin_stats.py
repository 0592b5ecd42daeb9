"""Presence of the viewers Pushpin holds, from its statistics socket (GRIP_STATS).

Behind Pushpin daphne never sees a viewer leave, so it cannot count them itself. Pushpin can:
on its statistics socket (`stats_spec`, a ZeroMQ PUB socket; `stats_format=json` in
deploy/pushpin.conf) it says, for each channel, how many requests it holds subscribed to it,
on every change and again before `ttl` runs out:

    sub J{"channel": "room-12", "mode": "stream", "subscribers": 2, "ttl": 60, "from": ...}
    sub J{"channel": "room-12", "mode": "stream", "unavailable": true, "from": ...}

Each process with GRIP_STATS reads them and writes, per room, the sum over the room's channels
(`room-<id>`, `room-<id>-rate-<K>`; streams and held polls) to the presence store as one more
"process" whose members are a single count (`pushpin_count_members`), so every reader of
presence (the hub's broadcasts, the moderators' stats, the server API) counts them as guests.
Every process writes the same entry, so it does not matter which ones run this.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from .presence import PUSHPIN_COUNT_KEY, PresenceStore

if TYPE_CHECKING:
    from .feed import RoomFeed

logger = logging.getLogger(__name__)

# The presence store's name for the viewers Pushpin holds (in place of a process id).
PUSHPIN_PROCESS_ID = "pushpin"
# How often the counts are written to the presence store (and when they change, at most this
# late): presence is broadcast about once a second anyway.
WRITE_EVERY_SECS = 2.0
# Channels counted: the room's own and its sampled ones (chat/realtime/grip.py).
_ROOM_CHANNEL = re.compile(r"^room-(?P<room>\d{1,18})(?:-rate-\d{1,4})?$")
# At most this many channels remembered (a Pushpin with more rooms than this is not counted
# beyond them, and a warning is logged): memory stays bounded whatever Pushpin reports.
CHANNELS_MAX = 100_000


class PushpinViewers:
    """Subscriber counts by (instance, channel, mode), each valid until its `ttl` runs out.
    Several Pushpin instances (packets' `from`) each count the viewers they hold: added up."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], tuple[int, float]] = {}

    def take(self, packet: dict[str, Any]) -> None:
        """One `sub` packet."""
        channel, mode = str(packet.get("channel", "")), str(packet.get("mode", ""))
        if _ROOM_CHANNEL.match(channel) is None:
            return
        key = (str(packet.get("from", "")), channel, mode)
        subscribers = packet.get("subscribers")
        if packet.get("unavailable") or not isinstance(subscribers, int) or subscribers <= 0:
            self.counts.pop(key, None)
            return
        if key not in self.counts and len(self.counts) >= CHANNELS_MAX:
            logger.warning("pushpin stats: more than %d channels; not counting %s", CHANNELS_MAX, channel)
            return
        ttl = packet.get("ttl")
        expires = time.monotonic() + (float(ttl) if isinstance(ttl, int | float) and ttl > 0 else 60.0)
        self.counts[key] = (subscribers, expires)

    def by_room(self) -> dict[int, int]:
        """Viewers held now, per room id."""
        now = time.monotonic()
        rooms: dict[int, int] = {}
        for key, (subscribers, expires) in list(self.counts.items()):
            if expires <= now:
                del self.counts[key]
                continue
            channel = key[1]
            match = _ROOM_CHANNEL.match(channel)
            if match is not None:
                room_id = int(match["room"])
                rooms[room_id] = rooms.get(room_id, 0) + subscribers
        return rooms


def parse_packet(raw: bytes) -> dict[str, Any] | None:
    """`sub J{...}` -> the JSON object; None for anything else."""
    kind, _, rest = raw.partition(b" ")
    if kind != b"sub" or not rest.startswith(b"J"):
        return None
    try:
        packet = json.loads(rest[1:])
    except ValueError:
        return None
    return packet if isinstance(packet, dict) else None


async def count_pushpin_viewers(spec: str, store: PresenceStore, feeds: dict[int, RoomFeed]) -> None:
    """Read Pushpin's statistics at `spec` until cancelled; keep the presence store's Pushpin
    entry of each room up to date, and have this process's feeds re-read presence on a change."""
    import zmq
    import zmq.asyncio

    viewers = PushpinViewers()
    context = zmq.asyncio.Context()
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVHWM, 10_000)
    for one in spec.split(","):  # several instances: one socket subscribed to each
        if one.strip():
            socket.connect(one.strip())
    socket.setsockopt(zmq.SUBSCRIBE, b"sub ")
    written: dict[int, int] = {}
    last_write = 0.0
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                raw = await asyncio.wait_for(socket.recv(), WRITE_EVERY_SECS)
                packet = parse_packet(raw)
                if packet is not None:
                    viewers.take(packet)
            now = time.monotonic()
            if now - last_write < WRITE_EVERY_SECS:
                continue
            last_write = now
            try:
                written = await _write(viewers.by_room(), written, store, feeds)
            except Exception:
                logger.exception("pushpin stats: writing presence failed")
    finally:
        socket.close(0)
        context.term()


async def _write(
    counts: dict[int, int], written: dict[int, int], store: PresenceStore, feeds: dict[int, RoomFeed]
) -> dict[int, int]:
    """Each room's count to the store (all of them: the store's entries expire unrefreshed), a
    room no longer held removed; this process's feeds re-read presence where it changed."""
    for room_id in set(written) - set(counts):
        await store.put(room_id, PUSHPIN_PROCESS_ID, {})
    for room_id, count in counts.items():
        await store.put(room_id, PUSHPIN_PROCESS_ID, {PUSHPIN_COUNT_KEY: str(count)})
    for room_id in set(counts) | set(written):
        feed = feeds.get(room_id)
        if feed is not None and counts.get(room_id) != written.get(room_id):
            feed.remote_dirty = True
    return dict(counts)
