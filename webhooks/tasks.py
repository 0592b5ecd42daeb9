"""The queue's tasks (Django's task framework; the database backend by default): one turns a
room's new events into deliveries, one sends one attempt of one delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django_tasks import task

QUEUE = "webhooks"


@task(queue_name=QUEUE)
def fan_out(room_id: int) -> None:
    """Make the deliveries of the room's events that no endpoint has seen yet."""
    from .fanout import fan_out_room

    fan_out_room(room_id)


@task(queue_name=QUEUE)
def deliver(delivery_id: int, attempts_made: int) -> None:
    """Send attempt `attempts_made + 1` of a delivery, unless another worker did."""
    from .delivery import attempt_delivery

    attempt_delivery(delivery_id, attempts_made)


@task(queue_name=QUEUE)
def deliver_batch(endpoint_id: int, delivery_ids: list[int]) -> None:
    """Send the first attempts of some of one endpoint's new deliveries (one task for many)."""
    from .delivery import attempt_batch

    attempt_batch(endpoint_id, delivery_ids)


@task(queue_name=QUEUE)
def deliver_batches(batches: list[list[Any]]) -> None:
    """The same for several endpoints at once: one task, one claim and one recording
    transaction for what one fan-out made for the room's healthy endpoints."""
    from .delivery import attempt_batches

    attempt_batches([(int(endpoint_id), list(ids)) for endpoint_id, ids in batches])


def enqueue_fan_out(room_id: int, run_after: datetime | None = None) -> None:
    fan_out.using(run_after=run_after).enqueue(room_id)


def enqueue_delivery(delivery_id: int, attempts_made: int, run_after: datetime | None = None) -> None:
    deliver.using(run_after=run_after).enqueue(delivery_id, attempts_made)


def enqueue_batch(endpoint_id: int, delivery_ids: list[int]) -> None:
    deliver_batch.enqueue(endpoint_id, delivery_ids)


def enqueue_batches(batches: list[tuple[int, list[int]]]) -> None:
    if len(batches) == 1:
        enqueue_batch(*batches[0])
    else:
        deliver_batches.enqueue([[endpoint_id, ids] for endpoint_id, ids in batches])
