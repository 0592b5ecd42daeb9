"""The room event log: append with a gapless per-room seq, read backlog and history."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q

from chat.models import CONTENT_KINDS, EventKind, Room, RoomEvent, new_log_epoch
from chat.realtime.publish import publish_after_commit  # the one way up: publish after commit
from chat.types import AnyUser

from .bots import is_bot
from .wire import WireEvent, event_to_wire

logger = logging.getLogger(__name__)

HISTORY_MAX_LIMIT = 200

# Called with a room's id once a transaction that appended to its log commits (webhooks/ adds
# one; chat never imports the apps that listen). A listener must return at once: it runs on
# the writer's thread, right after the commit.
CommitListener = Callable[[int], None]
_commit_listeners: list[CommitListener] = []


def add_commit_listener(listener: CommitListener) -> None:
    """Be told the id of each room whose log grew, after the commit (once per append call)."""
    if listener not in _commit_listeners:
        _commit_listeners.append(listener)


def _notify_after_commit(room_id: int) -> None:
    if _commit_listeners:
        transaction.on_commit(partial(_notify, room_id))


def _notify(room_id: int) -> None:
    for listener in _commit_listeners:
        try:
            listener(room_id)
        except Exception:
            logger.exception("commit listener %r failed for room %s", listener, room_id)


def append_event(
    room: Room,
    kind: EventKind,
    *,
    user: AnyUser | None = None,
    text: str = "",
    data: dict[str, Any] | None = None,
    video_ms: int | None = None,
) -> RoomEvent:
    """Write one event with the room's next seq; it is published once the transaction commits.

    Bumping the room's counter locks its row until the transaction ends (a row lock on
    PostgreSQL; on SQLite the IMMEDIATE transaction holds the database's write lock), so a
    later seq can only commit after an earlier one: commit order equals seq order.
    """
    author = user if isinstance(user, User) else None
    event = RoomEvent(
        room_id=room.pk,
        kind=kind,
        user=author,
        user_name=author.get_username() if author is not None else "",
        text=text,
        data=data or {},
        video_ms=video_ms,
        user_bot=True if author is not None and is_bot(author) else None,
    )
    # No savepoint: inside a larger transaction (a moderation action, a trip of posts in
    # chat/domain/batching.py) a failure here fails that transaction, which is what it should do.
    with transaction.atomic(savepoint=False):
        seq = event.seq = _next_seq(room.pk)
        _insert(event)
        publish_after_commit(room.pk, event_to_wire(event))
        _notify_after_commit(room.pk)
    room.last_seq = seq
    return event


def append_events_bulk(room: Room, events: list[RoomEvent], batch_size: int = 1000) -> int:
    """Append many unsaved events (an import) in one transaction: seqs in list order, one
    counter bump, batched inserts. Live viewers get them through the hub's gap repair (the
    log is the truth); returns the last seq."""
    if not events:
        return room.last_seq
    with transaction.atomic():
        last = _next_seq(room.pk, len(events))
        for offset, event in enumerate(events):
            event.room_id = room.pk
            event.seq = last - len(events) + 1 + offset
        RoomEvent.objects.bulk_create(events, batch_size=batch_size)
        # One small publish: the hub sees the jump and reads the new events from the log.
        tail = events[-1]
        publish_after_commit(room.pk, event_to_wire(tail))
        _notify_after_commit(room.pk)
    room.last_seq = last
    return last


def append_copied_events(room: Room, count: int, copy: Callable[[int], None]) -> int:
    """Append `count` events that `copy(first_seq)` inserts itself, with seqs first_seq,
    first_seq + 1, ... (an `INSERT ... SELECT` from a staging table: one statement, no rows
    through Python while the write lock is held). One transaction, one counter bump, and the
    last event published like `append_events_bulk`; returns the last seq."""
    if count <= 0:
        return room.last_seq
    with transaction.atomic():
        last = _next_seq(room.pk, count)
        copy(last - count + 1)
        tail = RoomEvent.objects.get(room_id=room.pk, seq=last)
        publish_after_commit(room.pk, event_to_wire(tail))
        _notify_after_commit(room.pk)
    room.last_seq = last
    return last


def _next_seq(room_id: int, count: int = 1) -> int:
    """Reserve `count` seqs; returns the last. The row stays locked until the transaction ends.

    One statement instead of SELECT ... FOR UPDATE plus UPDATE: this runs on every post.
    RETURNING needs SQLite 3.35+ or PostgreSQL.
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SEQ_SQL, [count, room_id])
        row = cursor.fetchone()
    if row is None:
        raise Room.DoesNotExist(f"room {room_id} does not exist")
    return int(row[0])


def _insert(event: RoomEvent) -> None:
    """`event.save()` without the ORM's per-call query building (this runs on every post)."""
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in _INSERT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, values)
        row = cursor.fetchone()
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias


_INSERT_FIELDS = [field for field in RoomEvent._meta.concrete_fields if not field.primary_key]
_INSERT_SQL = (
    f"INSERT INTO {RoomEvent._meta.db_table}"
    f" ({', '.join(connection.ops.quote_name(field.column) for field in _INSERT_FIELDS)})"
    f" VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))}) RETURNING {RoomEvent._meta.pk.column}"
)
_NEXT_SEQ_SQL = f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + %s WHERE id = %s RETURNING last_seq"


def removed_parents(events: list[WireEvent]) -> list[WireEvent]:
    """Replies read from the log whose parent a moderator has deleted since: their `reply_to`
    loses the quote and says `removed` (the excerpt was taken when the reply was posted). One
    query per page, and none for a page without replies."""
    parents = {event["reply_to"]["id"] for event in events if isinstance(event.get("reply_to"), dict)}
    if not parents:
        return events
    deleted_at = dict(RoomEvent.objects.filter(pk__in=parents).values_list("pk", "deleted_at"))
    gone = {pk for pk in parents if pk not in deleted_at or deleted_at[pk] is not None}
    for event in events:
        parent = event.get("reply_to")
        if isinstance(parent, dict) and parent["id"] in gone:
            event["reply_to"] = {"id": parent["id"], "seq": parent["seq"], "removed": True}
    return events


def events_after(room_id: int, after: int, limit: int) -> list[WireEvent]:
    """Every event with seq > after, oldest first, at most `limit` of them."""
    rows = RoomEvent.objects.filter(room_id=room_id, seq__gt=after).order_by("seq")[:limit]
    return removed_parents([event_to_wire(event) for event in rows])


def events_between(room_id: int, after: int, upto: int) -> list[WireEvent]:
    """Events with after < seq <= upto, oldest first."""
    rows = RoomEvent.objects.filter(room_id=room_id, seq__gt=after, seq__lte=upto).order_by("seq")
    return removed_parents([event_to_wire(event) for event in rows])


def history_before(
    room_id: int, before: int | None, limit: int, placeholders_after: int | None = None
) -> tuple[list[WireEvent], bool]:
    """Visible content events older than `before`, newest last; and whether older ones exist.
    With `placeholders_after` (the room's latest clear), messages a moderator deleted after it
    are listed too, as `deleted` events without content: the room shows "removed" in their place."""
    visible = Q(deleted_at=None)
    if placeholders_after is not None:
        visible |= Q(seq__gt=placeholders_after)
    rows = RoomEvent.objects.filter(visible, room_id=room_id, kind__in=CONTENT_KINDS)
    if before is not None:
        rows = rows.filter(seq__lt=before)
    newest_first = list(rows.order_by("-seq")[: limit + 1])
    has_more = len(newest_first) > limit
    return removed_parents([event_to_wire(event) for event in reversed(newest_first[:limit])]), has_more


def current_last_seq(room_id: int) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(pk=room_id)


def log_position(room_id: int) -> tuple[int, str]:
    """The room's newest seq and its log's epoch."""
    last_seq, epoch = Room.objects.values_list("last_seq", "log_epoch").get(pk=room_id)
    return last_seq, epoch


def log_positions(room_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Each room's newest seq and log epoch, in one query."""
    rows = Room.objects.filter(pk__in=room_ids).values_list("pk", "last_seq", "log_epoch")
    return {pk: (last_seq, epoch) for pk, last_seq, epoch in rows}


def renew_log_epoch(room_id: int, seen: str) -> str:
    """The log went back (a restored database carries the epoch it had): give it a new epoch,
    unless another process did already (then that one). The room's epoch afterwards."""
    Room.objects.filter(pk=room_id, log_epoch=seen).update(log_epoch=new_log_epoch())
    return Room.objects.values_list("log_epoch", flat=True).get(pk=room_id)


def renew_all_log_epochs() -> int:
    """A new epoch for every room's log (after a restore); how many rooms."""
    room_ids = list(Room.objects.values_list("pk", flat=True))
    for room_id in room_ids:
        Room.objects.filter(pk=room_id).update(log_epoch=new_log_epoch())
    return len(room_ids)


def last_seqs(room_ids: list[int]) -> dict[int, int]:
    """Each room's newest seq, in one query."""
    return dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "last_seq"))
