"""Shared steps of the webhook tests: post, fan out, look at the queue."""

from __future__ import annotations

from typing import Any

from django_tasks_db.models import DBTaskResult

from chat.domain.eventlog import append_event
from chat.models import EventKind, Room
from webhooks.fanout import fan_out_room
from webhooks.models import Delivery


def post(room: Room, text: str, kind: EventKind = EventKind.MESSAGE) -> int:
    """Append an event to the room's log and make its deliveries; its seq."""
    event = append_event(room, kind, text=text)
    fan_out_room(room.pk)
    return event.seq


def queued(task_name: str) -> list[DBTaskResult[Any, Any]]:
    """Tasks waiting in the queue, oldest first."""
    rows = DBTaskResult.objects.filter(status="READY", task_path=f"webhooks.tasks.{task_name}")
    return list(rows.order_by("enqueued_at"))


def only_delivery() -> Delivery:
    deliveries = list(Delivery.objects.all())
    assert len(deliveries) == 1, deliveries
    return deliveries[0]


def queued_attempt(delivery_id: int, attempts_made: int) -> DBTaskResult[Any, Any]:
    """The one queued task that sends attempt `attempts_made + 1` of the delivery."""
    tasks = [task for task in queued("deliver") if task.args_kwargs["args"] == [delivery_id, attempts_made]]
    assert len(tasks) == 1, tasks
    return tasks[0]
