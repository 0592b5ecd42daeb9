"""Publishing to Pushpin (GRIP): every committed event once, in the SSE and long-poll formats.

With `GRIP_URL` and `GRIP_KEY` set, `publish.py` hands each committed event here as well as to
the hub. One thread per process posts the items to Pushpin's publish API (`POST /publish/`),
in the order the events were committed, several to a request when they queue up. Each item
carries `id` = the event's seq and `prev-id` = seq - 1, so Pushpin can tell a gap: an item it
misses (a failed post, a full queue, an event committed by a process without GRIP) is fetched
by Pushpin itself through the `Grip-Link` of each held request (chat/transports/grip.py).
Nothing here retries: the log is the truth, and the link reads it.

Channels (docs/DECISIONS.md "Pushpin"): `room-<id>` carries a room's events to every request
Pushpin holds for it (only requests that passed the room's access check are subscribed);
`room-<id>-rate-<K>` the same events for SSE viewers who asked for at most K danmaku a second
(`max_rate`), a skipped comment as an empty item that keeps the id chain; `token-<id>` ends the
streams opened with an API token when it is revoked.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from functools import partial
from typing import Any

import httpx
import jwt
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chat.domain.wire import WireEvent, dumps, sse_block, sse_events
from chat.errors import invalid_token

from .batch import RateSampler, event_rules

logger = logging.getLogger(__name__)

# Items waiting for the publish thread. Past this (Pushpin down or slow) new items are dropped
# and logged: memory stays bounded, and Pushpin recovers what it missed through the link.
QUEUE_MAX = 10_000
# Items per publish request: one request carries a burst (Pushpin's own limit is its
# push_in_http_max_body_size, 1 MB by default; a chat event is at most a few KB).
ITEMS_PER_REQUEST = 100
# A publish request that takes longer than this has failed (Pushpin answers in milliseconds).
PUBLISH_TIMEOUT_SECS = 5.0
# The publish request's own signature (a JWT like Grip-Sig's) lives this long.
AUTH_TTL_SECS = 3600

# Sampled streams (`max_rate`): the rates Pushpin holds streams for, per room, are registered
# in the cache (shared by every process on Redis) by each hold and each link request, and each
# process publishes the room's events to those rates' channels. At most this many rates per room
# (a request for another is streamed by daphne through Pushpin, as without it).
RATES_PER_ROOM_MAX = 16
# A rate unregistered this long is forgotten (its viewers left; a room silent this long with
# sampled viewers still held loses them: docs/DECISIONS.md "Pushpin").
RATE_TTL_SECS = 24 * 3600
# A rate registered longer ago than this has its streams ended on the next event: Pushpin asks
# each one's link, which registers the rate again and holds the stream on (the client sees
# nothing); a rate nobody re-registers then expires.
RATE_REFRESH_SECS = 600
# How long a process trusts its copy of a room's registered rates (a cache read per event
# otherwise). A rate registered meanwhile misses a few items, which Pushpin recovers by the link.
RATES_MEMO_SECS = 1.0

Item = dict[str, Any]


def grip_enabled() -> bool:
    return bool(settings.GRIP_URL and settings.GRIP_KEY)


def room_channel(room_id: int) -> str:
    return f"room-{room_id}"


def token_channel(token_id: int) -> str:
    return f"token-{token_id}"


def rate_channel(room_id: int, rate: int) -> str:
    return f"room-{room_id}-rate-{rate}"


def _rates_key(room_id: int) -> str:
    return f"grip:rates:{room_id}"


def registered_rates(room_id: int) -> dict[int, float]:
    """The rates Pushpin holds sampled streams of the room for: rate -> when last registered."""
    now = time.time()
    stored = cache.get(_rates_key(room_id)) or {}
    return {int(rate): float(at) for rate, at in stored.items() if now - float(at) < RATE_TTL_SECS}


def register_rate(room_id: int, rate: int) -> bool:
    """Record that a stream of `rate` is held for the room (read, write, check again: another
    process may write at the same moment); False when the room has RATES_PER_ROOM_MAX others."""
    for _attempt in range(3):
        rates = registered_rates(room_id)
        if rate not in rates and len(rates) >= RATES_PER_ROOM_MAX:
            return False
        rates[rate] = time.time()
        cache.set(_rates_key(room_id), rates, RATE_TTL_SECS)
        if rate in registered_rates(room_id):
            return True
    return True


class _RoomRates:
    """One process's view of a room's sampled channels: the registered rates (re-read every
    RATES_MEMO_SECS) and a sampler for each."""

    def __init__(self) -> None:
        self.read_at = 0.0
        self.rates: dict[int, float] = {}
        self.samplers: dict[int, RateSampler] = {}
        self.refreshed: dict[int, float] = {}  # rate -> when this process last ended its streams

    def current(self, room_id: int) -> dict[int, float]:
        now = time.monotonic()
        if now - self.read_at >= RATES_MEMO_SECS:
            self.rates = registered_rates(room_id)
            self.read_at = now
            for rate in set(self.samplers) - set(self.rates):
                del self.samplers[rate]
        return self.rates

    def sampler(self, rate: int) -> RateSampler:
        sampler = self.samplers.get(rate)
        if sampler is None:
            sampler = self.samplers[rate] = RateSampler(rate)
        return sampler


_room_rates: dict[int, _RoomRates] = {}
_room_rates_lock = threading.Lock()


def _rate_items(room_id: int, event: WireEvent, seq: int, content: str, closing: bool) -> list[Item]:
    with _room_rates_lock:
        state = _room_rates.get(room_id)
        if state is None:
            state = _room_rates[room_id] = _RoomRates()
        rates = state.current(room_id)
        if not rates:
            return []
        may_sample = event_rules().may_sample(event)
        items: list[Item] = []
        now = time.time()
        for rate, registered_at in sorted(rates.items()):
            channel = rate_channel(room_id, rate)
            # A skipped comment still takes its id: the chain of prev-ids stays whole.
            shown = content if not may_sample or state.sampler(rate).admit() else ""
            formats = {"http-stream": {"content": shown}}
            items.append({"channel": channel, "id": str(seq), "prev-id": str(seq - 1), "formats": formats})
            stale = now - registered_at > RATE_REFRESH_SECS
            if closing or (stale and now - state.refreshed.get(rate, 0.0) > RATE_REFRESH_SECS):
                state.refreshed[rate] = now
                items.append(close_item(channel))
        return items


def poll_body(events: list[WireEvent], last_seq: int) -> str:
    """A long-poll answer (docs/PROTOCOL.md) as Pushpin sends it to the polls it holds: without
    `presence` and `epoch`, which the client keeps from the answers before (the publisher
    knows neither; a log that went back is seen by the next poll, answered by the backend)."""
    return dumps({"events": events, "last_seq": last_seq})


def event_items(room_id: int, event: WireEvent) -> list[Item]:
    """The items for one committed event: the event in both formats; the same on each sampled
    channel of the room; and, when it changes who may read the room (a private room lost a
    member or its overlay key), the end of every stream's hold (`close_item`)."""
    seq = int(event["seq"])
    content = sse_events([event])
    formats: dict[str, Any] = {
        "http-stream": {"content": content},
        "http-response": {
            "code": 200,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": poll_body([event], seq),
        },
    }
    channel = room_channel(room_id)
    items: list[Item] = [{"channel": channel, "id": str(seq), "prev-id": str(seq - 1), "formats": formats}]
    closing = event_rules().changes_access(event)
    if closing:
        items.append(close_item(channel))
    return items + _rate_items(room_id, event, seq, content, closing)


def close_item(channel: str) -> Item:
    """Pushpin ends the hold of every stream subscribed to `channel` (held long-polls are not
    streams). On a room's channel, whose items carry ids, it then asks each stream's
    `Grip-Link` how to go on (chat/transports/grip.py): a reader who may no longer read the room
    is refused there, the others are held again. On a channel without ids (`token-<id>`) it
    closes the streams (observed with Pushpin 1.36)."""
    return {"channel": channel, "formats": {"http-stream": {"action": "close"}}}


class GripPublisher:
    """The publish thread and its bounded queue (one per process)."""

    def __init__(self, url: str, key: str) -> None:
        self.endpoint = url + "/publish/"
        self.key = key
        self.items: queue.Queue[Item] = queue.Queue(QUEUE_MAX)
        self.dropped = 0  # items refused by a full queue, since start
        self.failed = 0  # items whose publish request failed, since start
        self.published = 0
        self._thread = threading.Thread(target=self._run, name="grip-publish", daemon=True)
        self._thread.start()

    def put(self, items: list[Item]) -> None:
        """Queue `items` without waiting (called on the writer's thread, right after commit)."""
        for item in items:
            try:
                self.items.put_nowait(item)
            except queue.Full:
                self.dropped += 1
                logger.warning("grip: the publish queue is full; dropped an item of %s", item["channel"])

    def _authorization(self) -> str:
        claims = {"iss": "chat", "exp": int(time.time()) + AUTH_TTL_SECS}
        return "Bearer " + jwt.encode(claims, self.key, algorithm="HS256")

    def _run(self) -> None:
        with httpx.Client(timeout=PUBLISH_TIMEOUT_SECS) as client:
            while True:
                batch = [self.items.get()]
                while len(batch) < ITEMS_PER_REQUEST:
                    try:
                        batch.append(self.items.get_nowait())
                    except queue.Empty:
                        break
                self._send(client, batch)

    def _send(self, client: httpx.Client, batch: list[Item]) -> None:
        try:
            answer = client.post(
                self.endpoint,
                content=dumps({"items": batch}).encode(),
                headers={"Content-Type": "application/json", "Authorization": self._authorization()},
            )
            answer.raise_for_status()
            self.published += len(batch)
        except httpx.HTTPError as error:
            # Pushpin recovers the missed items through each held request's link.
            self.failed += len(batch)
            logger.error("grip: publishing %d items to %s failed: %s", len(batch), self.endpoint, error)


class GripPublishers:
    """One publisher per Pushpin instance (GRIP_URL, comma-separated): each instance holds its own viewers and
    gets every item; each has its own thread and queue, so one that is down or slow delays none
    of the others (what it misses it recovers through its held requests' links)."""

    def __init__(self, urls: tuple[str, ...], key: str) -> None:
        self.urls = urls
        self.publishers = [GripPublisher(url, key) for url in urls]

    def put(self, items: list[Item]) -> None:
        for publisher in self.publishers:
            publisher.put(items)


_publisher: GripPublishers | None = None
_publisher_lock = threading.Lock()


def grip_publisher() -> GripPublishers | None:
    """This process's publishers, started on first use; None without GRIP_URL and GRIP_KEY."""
    global _publisher
    if not grip_enabled():
        return None
    urls = tuple(url.strip().rstrip("/") for url in settings.GRIP_URL.split(",") if url.strip())
    with _publisher_lock:
        if _publisher is None or _publisher.urls != urls:
            _publisher = GripPublishers(urls, settings.GRIP_KEY)
        return _publisher


def publish_event(room_id: int, event: WireEvent) -> None:
    """Hand a committed event to Pushpin (no-op without GRIP)."""
    publisher = grip_publisher()
    if publisher is not None:
        publisher.put(event_items(room_id, event))


def close_channels(channels: list[str]) -> None:
    """End every stream Pushpin holds on these channels (no-op without GRIP)."""
    publisher = grip_publisher()
    if publisher is not None:
        publisher.put([close_item(channel) for channel in channels])


def end_token_streams_after_commit(token_ids: list[int]) -> None:
    """Once the transaction commits, end the streams Pushpin holds for these revoked tokens:
    each gets the `refused` event (`token_revoked`) the direct stream sends, then Pushpin
    closes it. (A `close` on a channel without ids ends the stream without asking the link,
    observed with Pushpin 1.36; so the refusal is published here, to those streams only.)"""
    if grip_enabled() and token_ids:
        transaction.on_commit(partial(_end_token_streams, token_ids))


def _end_token_streams(token_ids: list[int]) -> None:
    publisher = grip_publisher()
    if publisher is None:
        return
    refusal = invalid_token(_("This API token was revoked."), "token_revoked")
    refused = sse_block("refused", dumps(refusal.as_frame()))
    items: list[Item] = []
    for token_id in token_ids:
        channel = token_channel(token_id)
        items += [{"channel": channel, "formats": {"http-stream": {"content": refused}}}, close_item(channel)]
    publisher.put(items)
