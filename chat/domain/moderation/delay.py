"""Chat delay: a non-moderator's message waits `chat_delay_seconds` as a held message (reason
`delayed`, with its `release_at`) and enters the log, with its seq, when that time comes, unless
a moderator removed it (rejected it in the review queue) meanwhile.

The release is an approval without a moderator: the message gets the next seq and carries its
`held_id`, so its author's page replaces the pending line. A release loop runs in every server
process (`start_with_server`, from config/serve.py): it wakes at the release time of each
message this process took in, and sweeps every CHAT_DELAY_SWEEP_SECONDS for the others (posted
through another process, or left by one that stopped), one query on a partial index that holds
only the messages waiting now. Each message is claimed with one conditional UPDATE, so two
processes never publish it twice.
"""

from __future__ import annotations

import heapq
import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.domain.access import active_sanction
from chat.domain.eventlog import append_event
from chat.errors import ChatError
from chat.models import EventKind, HeldMessage, Room, RoomEvent

logger = logging.getLogger(__name__)

RELEASE_BATCH = 100  # messages released per query; a backlog is worked through batch by batch
RELEASE_SLACK = 0.02  # seconds after a release time the loop wakes (the row's time has passed)
KNOWN_MAX = 10_000  # release times this process remembers at most (the sweep finds the rest)


def check_delay_room(room: Room, user_id: int) -> None:
    """Refuse a delayed post past the bounds: messages waiting per user and per room (one
    indexed count, only while the room delays messages)."""
    counts = HeldMessage.objects.filter(
        room_id=room.pk, decision=HeldMessage.Decision.PENDING, reason=HeldMessage.Reason.DELAYED
    ).aggregate(room=Count("id"), mine=Count("id", filter=Q(user_id=user_id)))
    if counts["mine"] >= settings.CHAT_DELAY_PENDING_PER_USER:
        raise ChatError(
            "too_many_pending",
            _("Your earlier messages have not appeared yet. Try again in a few seconds."),
            status=429,
            retry_after=room.chat_delay_seconds or 1,
        )
    if counts["room"] >= settings.CHAT_DELAY_PENDING_PER_ROOM:
        raise ChatError(
            "too_many_pending",
            _("Too many messages are waiting for this room's delay. Try again in a few seconds."),
            status=429,
            retry_after=room.chat_delay_seconds or 1,
        )


def release_time(room: Room) -> datetime:
    return timezone.now() + timedelta(seconds=room.chat_delay_seconds)


def release_one(held_id: int) -> RoomEvent | None:
    """Publish one delayed message whose time has come, if no one decided it yet (a moderator's
    reject or early approval, or another process's release): the claim is one conditional
    UPDATE. An author banned or timed out meanwhile gets a rejection instead."""
    with transaction.atomic():
        claimed = HeldMessage.objects.filter(
            pk=held_id, decision=HeldMessage.Decision.PENDING, reason=HeldMessage.Reason.DELAYED
        ).update(decision=HeldMessage.Decision.APPROVED, decided_at=timezone.now())
        if not claimed:
            return None
        held = HeldMessage.objects.select_related("user", "room").get(pk=held_id)
        room = held.room
        if active_sanction(room, held.user) is not None:
            HeldMessage.objects.filter(pk=held_id).update(decision=HeldMessage.Decision.REJECTED)
            return append_event(room, EventKind.REVIEW, data={"held_id": held.pk, "decision": "rejected"})
        event = append_event(
            room,
            EventKind(held.kind),
            user=held.user,
            text=held.text,
            data={**held.data, "held_id": held.pk},
            video_ms=held.video_ms,
        )
        HeldMessage.objects.filter(pk=held_id).update(event=event)
    return event


def release_due(limit: int = RELEASE_BATCH) -> int:
    """Release the delayed messages whose time has passed, oldest first; returns how many this
    call claimed (published, or rejected for a sanctioned author; a message another process
    claimed first is not counted)."""
    due = list(
        HeldMessage.objects.filter(
            decision=HeldMessage.Decision.PENDING, release_at__isnull=False, release_at__lte=timezone.now()
        )
        .order_by("release_at")
        .values_list("id", flat=True)[:limit]
    )
    released = 0
    for held_id in due:
        try:
            if release_one(held_id) is not None:
                released += 1
        except Exception:
            logger.exception("releasing delayed message %s failed; the next sweep retries", held_id)
    return released


class ReleaseLoop(threading.Thread):
    """One per server process: wakes at the release times it was told of, and sweeps."""

    def __init__(self, sweep_seconds: float) -> None:
        super().__init__(name="chat-delay-release", daemon=True)
        self.sweep_seconds = max(0.2, sweep_seconds)
        self.running = True
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._known: list[float] = []  # a heap of release times (epoch seconds)

    def notify(self, release_at: datetime) -> None:
        with self._lock:
            if len(self._known) < KNOWN_MAX:
                heapq.heappush(self._known, release_at.timestamp())
        self._wake.set()

    def stop(self) -> None:
        self.running = False
        self._wake.set()

    def _wait_seconds(self, now: float, next_sweep: float) -> float:
        """Seconds until the next release time this process knows of, or the next sweep; 0
        when one has come (the release times reached are forgotten: this pass releases them)."""
        with self._lock:
            due = False
            while self._known and self._known[0] + RELEASE_SLACK <= now:
                heapq.heappop(self._known)
                due = True
            if due:
                return 0.0
            soonest = self._known[0] + RELEASE_SLACK if self._known else next_sweep
        return max(0.0, min(soonest, next_sweep) - now)

    def run(self) -> None:
        next_sweep = 0.0
        while self.running:
            now = timezone.now().timestamp()
            wait = self._wait_seconds(now, next_sweep)
            if wait > 0:
                self._wake.wait(wait)
                self._wake.clear()
                continue
            try:
                while self.running and release_due() >= RELEASE_BATCH:
                    pass
            except Exception:
                logger.exception("releasing delayed messages failed; the next sweep retries")
            finally:
                close_old_connections()
            next_sweep = timezone.now().timestamp() + self.sweep_seconds


_loop: ReleaseLoop | None = None
_loop_lock = threading.Lock()


def notify_release(release_at: datetime) -> None:
    """A delayed message was committed in this process: wake its release loop at that time."""
    loop = _loop
    if loop is not None:
        loop.notify(release_at)


def start_with_server() -> ReleaseLoop:
    """Start this process's release loop, once (config/serve.py, when the server listens)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = ReleaseLoop(settings.CHAT_DELAY_SWEEP_SECONDS)
            _loop.start()
        return _loop


def stop() -> None:
    global _loop
    with _loop_lock:
        if _loop is not None:
            _loop.stop()
            _loop = None
