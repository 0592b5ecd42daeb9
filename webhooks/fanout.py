"""From the room's event log to deliveries: each endpoint keeps the seq it has reached (its
cursor), so a lost notice or a restart costs a delay, never an event."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F
from django.utils import timezone

from chat.domain.wire import dumps, event_to_wire
from chat.models import Room, RoomEvent

from .durability import bookkeeping
from .models import Delivery, DeliveryState, Endpoint
from .tasks import enqueue_batch, enqueue_batches, enqueue_fan_out

FANOUT_BATCH = 500  # events read from the log per task (then it queues itself again)
DELIVERIES_PER_TRANSACTION = 200  # about; one event's for every endpoint at least
BATCH_SIZE = 50  # first attempts per task (one endpoint's), recorded in one transaction
QUEUE_FULL_RECHECK = timedelta(seconds=30)  # a full endpoint's queue is looked at again after this


def new_message_id() -> str:
    """`webhook-id`: fixed when the delivery is made, the same on every attempt."""
    return f"msg_{uuid.uuid4().hex}"


def payload(room: Room, event: RoomEvent) -> str:
    """The body: the event as every transport sends it (`data`), and the room it belongs to."""
    wire = event_to_wire(event)
    return dumps(
        {
            "type": f"room.{event.kind}",
            "timestamp": wire["ts"],
            "room": {"slug": room.slug, "epoch": room.log_epoch},
            "data": wire,
        }
    )


def fan_out_room(room_id: int) -> int:
    """Turn the room's events past each enabled endpoint's cursor into deliveries, and queue
    their first attempts; the number of deliveries made. Short transactions of at most about
    DELIVERIES_PER_TRANSACTION deliveries each (on SQLite a post waiting for the write lock
    gets it between two), up to FANOUT_BATCH events per task; queues itself again when more
    events wait (or, later, when an endpoint's queue is full)."""
    made = events_seen = 0
    while events_seen < FANOUT_BATCH:
        count, events, more = _fan_out_step(room_id)
        made += count
        events_seen += events
        if not more:
            return made
    enqueue_fan_out(room_id)
    return made


def _fan_out_step(room_id: int) -> tuple[int, int, bool]:
    """One transaction of fan-out: (deliveries made, events read, whether more events wait
    now). Events waiting behind a full queue are not "more": a task is queued for later."""
    queue_max = settings.WEBHOOK_QUEUE_MAX
    again_at = None
    more = False
    made: list[Delivery] = []
    with bookkeeping():
        endpoints = list(
            Endpoint.objects.select_for_update().filter(room_id=room_id, enabled=True).order_by("pk")
        )
        if not endpoints:
            return 0, 0, False
        waiting = dict(
            Delivery.objects.filter(endpoint__in=endpoints, state=DeliveryState.PENDING)
            .values("endpoint")
            .annotate(count=Count("pk"))
            .values_list("endpoint", "count")
        )
        room = Room.objects.get(pk=room_id)
        low = min(endpoint.cursor for endpoint in endpoints)
        limit = max(1, DELIVERIES_PER_TRANSACTION // len(endpoints))
        events = list(
            RoomEvent.objects.filter(room_id=room_id, seq__gt=low, seq__lte=room.last_seq).order_by("seq")[
                :limit
            ]
        )
        more = len(events) == limit
        bodies: dict[int, str] = {}
        for endpoint in endpoints:
            room_left = queue_max - waiting.get(endpoint.pk, 0)
            for event in events:
                if event.seq <= endpoint.cursor:
                    continue
                if event.kind in endpoint.events:
                    if room_left <= 0:
                        # Bounded: the cursor stays; these events wait in the log, not in memory.
                        again_at = timezone.now() + QUEUE_FULL_RECHECK
                        break
                    if event.seq not in bodies:
                        bodies[event.seq] = payload(room, event)
                    made.append(
                        Delivery(
                            endpoint=endpoint,
                            seq=event.seq,
                            kind=event.kind,
                            message_id=new_message_id(),
                            payload=bodies[event.seq],
                        )
                    )
                    room_left -= 1
                endpoint.cursor = event.seq
        made = Delivery.objects.bulk_create(made)
        Endpoint.objects.bulk_update(endpoints, ["cursor"])
        by_endpoint: dict[int, list[int]] = {}
        for delivery in made:
            by_endpoint.setdefault(delivery.endpoint_id, []).append(delivery.pk)
        failing = {endpoint.pk for endpoint in endpoints if endpoint.failure_streak}
        # One task per batch of BATCH_SIZE: a thousand deliveries to one endpoint are twenty
        # tasks, not a thousand. The healthy endpoints' n-th batches share one task (ten
        # endpoints: one task per fan-out, not ten; each task costs write transactions, which
        # on SQLite a post waits for); an endpoint that is failing (slow, timing out) gets
        # tasks of its own, so that it holds up no other.
        groups: list[list[tuple[int, list[int]]]] = []
        for endpoint_id, ids in by_endpoint.items():
            for number, start in enumerate(range(0, len(ids), BATCH_SIZE)):
                batch = (endpoint_id, ids[start : start + BATCH_SIZE])
                if endpoint_id in failing:
                    enqueue_batch(*batch)
                    continue
                if number == len(groups):
                    groups.append([])
                groups[number].append(batch)
        for group in groups:
            enqueue_batches(group)
        if again_at is not None:
            enqueue_fan_out(room_id, run_after=again_at)
            more = False
    return len(made), len(events), more


def rooms_behind() -> list[int]:
    """Rooms with an enabled endpoint whose cursor is behind the log (a notice was lost, a
    process stopped, another process wrote without a worker)."""
    rows = Endpoint.objects.filter(enabled=True, cursor__lt=F("room__last_seq"))
    return sorted(set(rows.values_list("room_id", flat=True)))


def rooms_with_endpoints(room_ids: set[int]) -> set[int]:
    """Those of the rooms that have an enabled endpoint (the others need no fan-out)."""
    if not room_ids:
        return set()
    rows = Endpoint.objects.filter(room_id__in=room_ids, enabled=True)
    return set(rows.values_list("room_id", flat=True))


def has_work() -> bool:
    """An enabled endpoint or a waiting delivery exists."""
    return (
        Endpoint.objects.filter(enabled=True).exists()
        or Delivery.objects.filter(state=DeliveryState.PENDING).exists()
    )
