"""Importing a Bilibili XML file into a room: in chunks, all or nothing, within quotas.

A 200,000-comment file used to go into the log in one transaction built row by row through the
ORM: SQLite's write lock was held for the whole of it (6 to 20 s), and every room's posts waited.
Now the file is read as it arrives, and its comments are written to `StagedComment` in
transactions of `STAGE_CHUNK` rows, each a few milliseconds, so other rooms' writes pass in
between. Staged comments are in no table a reader reads. When the last one is in, they are
copied into the room's log (`_commit`: one `INSERT ... SELECT` on PostgreSQL, parts of
COPY_CHUNK under a reservation of the room's log on SQLite): the comments become visible
together, with seqs in file order, or (a refused file, a failure, a crash) not at all.

Quotas (`DANMAKU_IMPORT_QUOTA_USER`, `DANMAKU_IMPORT_QUOTA_ROOM`, "COUNT/SECONDS") bound the
comments a user, and a room, may import in a sliding window; every import's record counts,
committed or not, because reading and staging a file is the cost. One import at a time runs per
room and per user (a partial unique index says so in the database, across processes). The
operator's `manage.py import_danmaku` has no user and no quota.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chat.domain.eventlog import LogReservation, append_copied_events
from chat.errors import ChatError, Text
from chat.guards.ratelimit import parse_rate
from chat.models import EventKind, Room, RoomEvent
from chat.types import AnyUser
from config.sqlite.writers import background_writes

from .bilibili import ImportReport, XmlRefused, iter_comments, parse_bilibili, parse_niconico
from .comments import DANMAKU_MAX_CHARS, clean_comment
from .models import DanmakuImport, RoomVideo, StagedComment
from .positioned import POSITIONED_MAX_CHARS
from .timeline import current_video

log = logging.getLogger(__name__)

# Rows per staging transaction: about 10 ms of SQLite's write lock on the machines here.
STAGE_CHUNK = 2000
# Rows per transaction of the final copy into the log on SQLite: 5 to 10 ms of the database's
# one write lock on a loaded machine here, so other rooms' posts wait at most that long (one
# statement for all of them held it 0.5 to 1 s at 100,000 comments, issue 17).
COPY_CHUNK = 500
# Reading a file is pure Python: after every YIELD_CPU_SECONDS of the import thread's own CPU
# time (every 20 to 40 comments) the import sleeps YIELD_SECONDS, so the process's event loop and its
# other requests get the interpreter lock at once instead of after Python's 5 ms switch interval
# at every step of every request. Counted in CPU time, not comments: the first rule, a sleep
# every 20 comments, was written when a comment took about 250 µs; at 30 to 50 µs it spent
# more time asleep than reading (a half-millisecond sleep lasts a millisecond or more on a busy
# machine). The clock is read every YIELD_CHECK_EVERY comments. docs/BENCHMARKS.md has both.
YIELD_CPU_SECONDS = 0.001
YIELD_SECONDS = 0.0005
YIELD_CHECK_EVERY = 20
# A staging import not moved on for this long was abandoned (its process died); the next import
# clears it.
ABANDONED_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Allowance:
    """How many comments an import may still add, and when more are allowed if that is none."""

    comments: int | None  # None: no quota (the operator's command)
    retry_after: int = 0

    def refusal(self, wanted: int | None = None) -> ChatError:
        if wanted is None:
            message: Promise | Text = _("You have used up your import quota for now.")
        else:
            message = Text(
                _("The file holds more comments than may still be imported now (%(comments)s)."),
                comments=self.comments,
            )
        return ChatError(
            "import_quota",
            _("%(message)s Try again in %(seconds)s s."),
            params={"message": message, "seconds": self.retry_after},
            status=429,
            retry_after=max(self.retry_after, 1),
        )


def import_xml(
    room: Room, stream: IO[bytes], *, user: AnyUser | None = None, max_bytes: int | None = None
) -> ImportReport:
    """Add every supported comment of a Bilibili or Niconico XML file to the room's current
    recorded video.

    Every comment passes the same validation as a posted one (line breaks kept); the rest are
    skipped and counted by reason (unsupported_mode, code_comment, malformed, or a comment error
    code such as too_long). With a `user` (an upload), the import quotas apply.
    """
    video = current_video(room)
    if video is None or not video.recorded:
        raise ChatError("no_recorded_video", _("Set a recorded video for this room before importing."))
    author = user if isinstance(user, User) else None
    allowance = quota_left(room, author) if author is not None else Allowance(None)
    if allowance.comments is not None and allowance.comments <= 0:
        raise allowance.refusal()
    clear_abandoned()
    record = _begin(room, author)
    try:
        report = _stage(record, video, stream, max_bytes, allowance)
        report.last_seq = _commit(room, record, video, report.imported)
    except BaseException:
        _discard(record)
        raise
    finally:
        _clear_staged(record)
    return report


def quota_left(room: Room, user: User) -> Allowance:
    """The comments `user` may still import into `room` now: the smaller of what is left of
    the user's quota and of the room's."""
    lefts = []
    for rate_text, records in (
        (settings.DANMAKU_IMPORT_QUOTA_USER, DanmakuImport.objects.filter(user=user)),
        (settings.DANMAKU_IMPORT_QUOTA_ROOM, DanmakuImport.objects.filter(room=room)),
    ):
        rate = parse_rate(rate_text)
        since = timezone.now() - timedelta(seconds=rate.seconds)
        recent = records.filter(created_at__gt=since).aggregate(
            used=Sum("comments"), oldest=Min("created_at")
        )
        left = rate.count - (recent["used"] or 0)
        # More is allowed once the oldest import in the window leaves it.
        wait = 0 if recent["oldest"] is None else int((recent["oldest"] - since).total_seconds()) + 1
        lefts.append(Allowance(max(left, 0), wait))
    return min(lefts, key=lambda allowance: (allowance.comments, -allowance.retry_after))


def clear_abandoned() -> None:
    """Fail and clear staging imports whose process died (not moved on for ABANDONED_AFTER)."""
    stale = DanmakuImport.objects.filter(
        status=DanmakuImport.Status.STAGING, updated_at__lt=timezone.now() - ABANDONED_AFTER
    )
    for record in list(stale[:20]):
        log.warning("clearing import %s into room %s, abandoned while staging", record.pk, record.room_id)
        _discard(record)
        _clear_staged(record)


def _begin(room: Room, user: User | None) -> DanmakuImport:
    try:
        with transaction.atomic():
            return DanmakuImport.objects.create(room=room, user=user)
    except IntegrityError:
        busy = DanmakuImport.objects.filter(room=room, status=DanmakuImport.Status.STAGING).exists()
        where = "this room" if busy else "your account"
        raise ChatError(
            "import_busy",
            _("Another import into %(where)s is still running; try again when it has finished."),
            params={"where": where},
            status=409,
        ) from None


def _stage(
    record: DanmakuImport, video: RoomVideo, stream: IO[bytes], max_bytes: int | None, allowance: Allowance
) -> ImportReport:
    limit = max_bytes if max_bytes is not None else settings.DANMAKU_IMPORT_MAX_BYTES
    most = settings.DANMAKU_IMPORT_MAX_COMMENTS
    report = ImportReport()
    chunk: list[list[Any]] = []
    worked_since = time.thread_time()
    for raw in iter_comments(stream, limit, report):
        if report.imported + report.skipped_total >= most:
            raise XmlRefused(Text(_("the file holds more than %(most)s comments"), most=most))
        try:
            if report.format == "niconico":
                parsed = parse_niconico(raw, report.ignored_commands)
            else:
                parsed = parse_bilibili(raw)
        except ValueError as error:
            reason = str(error)
            report.skipped[reason if reason in ("unsupported_mode", "code_comment") else "malformed"] += 1
            continue
        positioned = parsed.mode == "positioned"
        try:
            fields = {
                "text": parsed.text,
                "mode": "scroll" if positioned else parsed.mode,  # positioned: checked below
                "size": parsed.size,
                "color": parsed.color,
                "video_ms": parsed.video_ms,
            }
            max_chars = POSITIONED_MAX_CHARS if positioned else DANMAKU_MAX_CHARS
            comment = clean_comment(fields, video, line_breaks=True, max_chars=max_chars)
        except ChatError as error:
            report.skipped[error.code] += 1
            continue
        if allowance.comments is not None and report.imported >= allowance.comments:
            raise allowance.refusal(wanted=report.imported + 1)
        report.imported += 1
        record.comments = report.imported  # what the quota counts, should the import fail
        if (
            report.imported % YIELD_CHECK_EVERY == 0
            and time.thread_time() - worked_since >= YIELD_CPU_SECONDS
        ):
            time.sleep(YIELD_SECONDS)
            worked_since = time.thread_time()
        stored = {**comment.data, "imported": True, **parsed.extra}
        if positioned:
            stored["mode"] = "positioned"
        data = json.dumps(stored)  # as the JSON field stores it
        chunk.append([record.pk, report.imported, comment.text, data, comment.video_ms])
        if len(chunk) >= STAGE_CHUNK:
            _write_chunk(record, chunk, report.imported)
            chunk = []
    if chunk:
        _write_chunk(record, chunk, report.imported)
    return report


def _write_chunk(record: DanmakuImport, rows: list[list[Any]], staged: int) -> None:
    """One short transaction: the rows, and the record moved on (quota count and liveness).
    A background write: a post waiting for SQLite's write lock goes first."""
    with background_writes(), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: Django's cursor binds parameters on the client, and a chunk of them as one
            # INSERT took half a second to build; executemany, a round trip per row.
            with cursor.cursor.copy(_COPY_STAGED_SQL) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(_STAGE_SQL, rows)
        DanmakuImport.objects.filter(pk=record.pk).update(comments=staged, updated_at=timezone.now())
    _checkpoint()


def _commit(room: Room, record: DanmakuImport, video: RoomVideo, count: int) -> int:
    """Copy the staged comments into the room's log, visible all at once; returns the last seq.

    PostgreSQL: one statement, which locks only this room's counter. SQLite, where any write
    transaction holds the whole database: in parts (`_commit_in_parts`)."""
    if count == 0:
        DanmakuImport.objects.filter(pk=record.pk).update(status=DanmakuImport.Status.COMMITTED)
        return room.last_seq
    if connection.vendor == "sqlite":
        return _commit_in_parts(room, record, video, count)
    now = _CREATED_AT.get_db_prep_save(timezone.now(), connection)

    def copy(first_seq: int) -> None:
        _check_video(room, video)
        with connection.cursor() as cursor, _large_page_cache(cursor):
            cursor.execute(_COPY_SQL, [room.pk, first_seq - 1, EventKind.DANMAKU.value, now, record.pk])
        _mark_committed(record, first_seq + count - 1)

    return append_copied_events(room, count, copy)


def _commit_in_parts(room: Room, record: DanmakuImport, video: RoomVideo, count: int) -> int:
    """SQLite: the room's log is reserved, the comments copied COPY_CHUNK per transaction as
    background writes (a post waiting for the write lock goes first), and made visible by one
    tiny transaction that moves the room's last_seq past them (chat's LogReservation). A failure
    on the way deletes what was copied, in parts too: nobody ever sees part of the file."""
    now = _CREATED_AT.get_db_prep_save(timezone.now(), connection)
    with background_writes():
        _check_video(room, video)
        reservation = LogReservation.take(room.pk)
        try:
            for low in range(0, count, COPY_CHUNK):
                with transaction.atomic(), connection.cursor() as cursor:
                    reservation.renew()
                    kind = EventKind.DANMAKU.value
                    cursor.execute(
                        _COPY_PART_SQL,
                        [room.pk, reservation.after, kind, now, record.pk, low, low + COPY_CHUNK],
                    )
                _checkpoint()

            def finish(first_seq: int) -> None:
                _check_video(room, video)
                _mark_committed(record, first_seq + count - 1)

            last = reservation.join(count, finish)
        except BaseException:
            reservation.cancel()
            raise
    room.last_seq = last
    return last


def _checkpoint() -> None:
    """SQLite: copy what the import wrote from the write-ahead log into the database, here. A
    PASSIVE checkpoint takes no write lock, so posts go on meanwhile; left to SQLite, the
    commit that finds the log past 1,000 pages does it, and that was another room's post:
    it waited 0.5 s while the import's staged megabytes were written back."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:  # (a test's transaction)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _check_video(room: Room, video: RoomVideo) -> None:
    current = RoomVideo.objects.filter(room_id=room.pk).values_list("since_seq", "url", "live").first()
    if current != (video.since_seq, video.url, video.live):
        raise ChatError(
            "video_changed",
            _("The room's video changed during the import; nothing was imported."),
            status=409,
        )


def _mark_committed(record: DanmakuImport, last_seq: int) -> None:
    DanmakuImport.objects.filter(pk=record.pk).update(
        status=DanmakuImport.Status.COMMITTED, last_seq=last_seq, updated_at=timezone.now()
    )


@contextmanager
def _large_page_cache(cursor: Any) -> Iterator[None]:
    """On SQLite, a 64 MiB page cache for the copy: the log's indexes of a large room no longer
    fit SQLite's default 2 MiB, and the copy holds the write lock a third less long with it."""
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    (before,) = cursor.fetchone()
    cursor.execute("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _discard(record: DanmakuImport) -> None:
    """Mark a failed import. Its record stays, with the comments it read: the quota counts them."""
    DanmakuImport.objects.filter(pk=record.pk, status=DanmakuImport.Status.STAGING).update(
        status=DanmakuImport.Status.FAILED, comments=record.comments, updated_at=timezone.now()
    )


def _clear_staged(record: DanmakuImport) -> None:
    """Delete an import's staged comments, a chunk per transaction (as they were written)."""
    top = record.comments or STAGE_CHUNK
    for low in range(0, top + STAGE_CHUNK, STAGE_CHUNK):
        with transaction.atomic():
            StagedComment.objects.filter(
                batch_id=record.pk, ordinal__gt=low, ordinal__lte=low + STAGE_CHUNK
            ).delete()
    # Anything past the count the record knew of (a crash between a chunk and its record).
    StagedComment.objects.filter(batch_id=record.pk).delete()


def _columns(model: type, *names: str) -> str:
    fields = (model._meta.get_field(name) for name in names)  # type: ignore[attr-defined]
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


_CREATED_AT = RoomEvent._meta.get_field("created_at")
_STAGED = connection.ops.quote_name(StagedComment._meta.db_table)
_EVENTS = connection.ops.quote_name(RoomEvent._meta.db_table)
_BATCH, _ORDINAL = _columns(StagedComment, "batch"), _columns(StagedComment, "ordinal")
_STAGED_COLUMNS = _columns(StagedComment, "batch", "ordinal", "text", "data", "video_ms")
_STAGE_SQL = f"INSERT INTO {_STAGED} ({_STAGED_COLUMNS}) VALUES (%s, %s, %s, %s, %s)"
_COPY_STAGED_SQL = f"COPY {_STAGED} ({_STAGED_COLUMNS}) FROM STDIN"


# Parameters: the room, the seq before the first, the kind, created_at, the import. Imported
# comments have no author.
_EVENT_COLUMNS = (
    "room", "seq", "kind", "user", "user_name", "text", "data", "video_ms", "created_at", "deleted_at"
)  # fmt: skip
_COPY_SQL = (
    f"INSERT INTO {_EVENTS} ({_columns(RoomEvent, *_EVENT_COLUMNS)})"
    f" SELECT %s, %s + {_ORDINAL}, %s, NULL, '',"
    f" {_columns(StagedComment, 'text', 'data', 'video_ms')}, %s, NULL"
    f" FROM {_STAGED} WHERE {_BATCH} = %s ORDER BY {_ORDINAL}"
)
# The same for the ordinals low < ordinal <= high (two more parameters).
_COPY_PART_SQL = _COPY_SQL.replace(" ORDER BY", f" AND {_ORDINAL} > %s AND {_ORDINAL} <= %s ORDER BY")
