"""The room event log: append with a gapless per-room seq, read backlog and history."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from chat.errors import ChatError
from chat.models import CONTENT_KINDS, EventKind, Room, RoomEvent, new_log_epoch
from chat.realtime.publish import publish_after_commit  # the one way up: publish after commit
from chat.types import AnyUser

from .bots import is_bot
from .wire import WireEvent, event_to_wire

logger = logging.getLogger(__name__)

HISTORY_MAX_LIMIT = 200
# A bulk append copied in several transactions (LogReservation) holds the room's log this long
# past its latest transaction; a copier that died frees the room then. Each of its
# transactions takes milliseconds, so a live copier never comes near it.
LOG_RESERVATION_LEASE = timedelta(seconds=30)
# Rows a cancelled reservation deletes per transaction (a few milliseconds of the write lock).
LOG_RESERVATION_DELETE_CHUNK = 1000


class LogBusy(ChatError):
    """The room's log is taking a bulk append (an import's final copy): other appends wait."""

    def __init__(self) -> None:
        super().__init__(
            "log_busy",
            "Comments are being imported into this room; try again in a moment.",
            status=503,
            retry_after=1,
        )


class LogReservationLost(DatabaseError):
    """The reservation's lease ran out and another writer freed the room: the copy is void."""


def in_log(room_id: int) -> Q:
    """The room's events that are in its log: seq up to the room's last_seq, read in the same
    statement (a primary-key lookup, once per query). Rows above it exist only while a
    LogReservation copies them in; they join the log together or never."""
    return Q(room_id=room_id, seq__lte=Subquery(Room.objects.filter(pk=room_id).values("last_seq")[:1]))


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
    # A LogBusy refusal is no failure: inside a transaction the seq is taken before the block,
    # so a refusal (nothing written) leaves the caller's transaction usable and a trip's other
    # posts go on.
    seq = _next_seq(room.pk) if connection.in_atomic_block else None
    with transaction.atomic(savepoint=False):
        seq = event.seq = seq if seq is not None else _next_seq(room.pk)
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


class LogReservation:
    """A bulk append in several short transactions, joining the log in one more.

    On SQLite one `INSERT ... SELECT` of a big import held the database's only write lock for
    0.5 to 1 s and every room's posts waited (issue 17). Reserved, the room's log takes the
    copy in parts, each its own transaction: the rows go in with their final seqs, above the
    room's last_seq, where no reader looks (`in_log`), while other appends into this room are
    refused with LogBusy (the WebSocket waits and tries again) so no seq is taken twice. Then
    `join` moves last_seq past them in one tiny transaction: every reader sees all of them at
    once, or (`cancel`, or a lease that ran out) none. Other rooms' writes pass between parts.
    """

    def __init__(self, room_id: int, after: int, until: datetime) -> None:
        self.room_id = room_id
        self.after = after  # the last seq before the reserved ones
        # The lease as last written, and as written before it: what the room holds if the
        # transaction that wrote the last one rolled back (then the copy is cancelled).
        self.until = until
        self._before = until

    @classmethod
    def take(cls, room_id: int) -> LogReservation:
        """Reserve the room's log; LogBusy if another bulk append holds it."""
        until = timezone.now() + LOG_RESERVATION_LEASE
        with transaction.atomic():
            _free_if_expired(room_id)
            if not Room.objects.filter(pk=room_id, log_reserved_until=None).update(log_reserved_until=until):
                raise LogBusy()
            after = current_last_seq(room_id)
        return cls(room_id, after, until)

    def renew(self) -> None:
        """Inside each of the copy's transactions: extend the lease, or LogReservationLost."""
        until = timezone.now() + LOG_RESERVATION_LEASE
        if not self._held().update(log_reserved_until=until):
            raise LogReservationLost(f"room {self.room_id}: the log's reservation ran out")
        self._before, self.until = self.until, until

    def _held(self) -> Any:
        return Room.objects.filter(pk=self.room_id, log_reserved_until__in=(self.until, self._before))

    def join(self, count: int, finish: Callable[[int], None] | None = None) -> int:
        """The `count` copied events join the log in one short transaction (`finish(first_seq)`
        runs in it and may refuse); the last is published. Returns the last seq."""
        with transaction.atomic():
            self.renew()
            if finish is not None:
                finish(self.after + 1)
            with connection.cursor() as cursor:
                cursor.execute(_JOIN_SQL, [count, self.room_id])
                (last,) = cursor.fetchone()
            if last != self.after + count:
                raise DatabaseError(f"room {self.room_id}: the log moved during its reservation")
            tail = RoomEvent.objects.get(room_id=self.room_id, seq=last)
            publish_after_commit(self.room_id, event_to_wire(tail))
            _notify_after_commit(self.room_id)
        return int(last)

    def cancel(self) -> None:
        """Delete what was copied, a short transaction at a time, and free the log. Nothing to
        do when the lease was lost: whoever freed the room deleted the rows."""
        try:
            while True:
                with transaction.atomic():
                    self.renew()
                    left = _delete_above(self.room_id, self.after, LOG_RESERVATION_DELETE_CHUNK)
                if not left:
                    break
            self._held().update(log_reserved_until=None)
        except LogReservationLost:
            pass


def _delete_above(room_id: int, after: int, most: int | None = None) -> bool:
    """Delete the room's rows above `after` (at most `most`); whether any may be left."""
    rows = (
        RoomEvent.objects.filter(room_id=room_id, seq__gt=after).order_by("seq").values_list("pk", flat=True)
    )
    ids = list(rows if most is None else rows[:most])
    RoomEvent.objects.filter(pk__in=ids).delete()
    return most is not None and len(ids) == most


def _free_if_expired(room_id: int) -> bool:
    """Free the room's log if its reservation's lease ran out (its copier died): the copied
    rows go, inside the caller's transaction. Whether the log is free now; Room.DoesNotExist."""
    row = Room.objects.filter(pk=room_id).values_list("log_reserved_until", "last_seq").first()
    if row is None:
        raise Room.DoesNotExist(f"room {room_id} does not exist")
    until, last_seq = row
    if until is None:
        return True
    if until > timezone.now():
        return False
    logger.warning("room %s: freeing its log, whose bulk append stopped (lease ran out)", room_id)
    _delete_above(room_id, last_seq)
    Room.objects.filter(pk=room_id, log_reserved_until=until).update(log_reserved_until=None)
    return True


def _next_seq(room_id: int, count: int = 1) -> int:
    """Reserve `count` seqs; returns the last. The row stays locked until the transaction ends.
    LogBusy, having written nothing, while a LogReservation holds the room's log.

    One statement instead of SELECT ... FOR UPDATE plus UPDATE: this runs on every post.
    RETURNING needs SQLite 3.35+ or PostgreSQL.
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SEQ_SQL, [count, room_id])
        row = cursor.fetchone()
        if row is None:
            if not _free_if_expired(room_id):
                raise LogBusy()
            cursor.execute(_NEXT_SEQ_SQL, [count, room_id])
            row = cursor.fetchone()
    if row is None:
        raise LogBusy()
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
_NEXT_SEQ_SQL = (
    f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + %s"
    " WHERE id = %s AND log_reserved_until IS NULL RETURNING last_seq"
)
_JOIN_SQL = (
    f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + %s, log_reserved_until = NULL"
    " WHERE id = %s RETURNING last_seq"
)


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
    rows = RoomEvent.objects.filter(in_log(room_id), seq__gt=after).order_by("seq")[:limit]
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
    rows = RoomEvent.objects.filter(visible, in_log(room_id), kind__in=CONTENT_KINDS)
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
