"""Bilibili's danmaku XML: export at `/rooms/<slug>/danmaku.xml` and import (`import_danmaku`).

    <i><chatid>slug</chatid><d p="time,mode,size,colour,timestamp,pool,user,id">text</d>...</i>

`time` is seconds into the video, `mode` 1 scroll, 4 bottom, 5 top, 6 reverse (7 advanced, 8 code and
the rest have no equivalent here: skipped on import and counted), `size` a font size in pixels
(25 is Bilibili's normal), `colour` a decimal RGB integer, `timestamp` Unix seconds, `pool` 0,
`user` a sender hash (here: the user's name) and `id` the comment's id.

The parser is expat driven by hand: a document with a DOCTYPE (the door to entity expansion and
external entities) is refused outright, input is read in chunks with a byte ceiling, so a huge or
hostile file costs bounded memory and time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from chat.domain.eventlog import append_events_bulk
from chat.domain.inputs import JS_SAFE_INTEGER_LIMIT
from chat.domain.wire import size_label
from chat.errors import ChatError, error_response
from chat.models import EventKind, Room, RoomEvent
from chat.web.http import readable_room

from .comments import clean_comment
from .models import RoomVideo
from .timeline import current_video, timeline

MODE_FROM_BILIBILI = {1: "scroll", 4: "bottom", 5: "top", 6: "reverse"}
MODE_TO_BILIBILI = {mode: code for code, mode in MODE_FROM_BILIBILI.items()}
SIZE_TO_BILIBILI = {"small": 18, "medium": 25, "large": 36}
READ_CHUNK = 64 * 1024


def size_from_bilibili(pixels: int) -> str:
    if pixels < 25:
        return "small"
    return "medium" if pixels == 25 else "large"


class XmlRefused(Exception):
    """The document is not one we will read (DOCTYPE, too large, malformed)."""


@dataclass
class ImportReport:
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    last_seq: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True)
class RawComment:
    p: str
    text: str


def iter_comments(stream: IO[bytes], max_bytes: int) -> Iterator[RawComment]:
    """The `<d p="...">text</d>` elements of a Bilibili XML document, in document order."""
    parser = expat.ParserCreate()
    found: list[RawComment] = []
    state: dict[str, object] = {"p": None, "text": []}

    def refuse_doctype(*_args: object) -> None:
        raise XmlRefused("documents with a DOCTYPE (entities) are refused")

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "d":
            state["p"] = attrs.get("p", "")
            state["text"] = []

    def end(name: str) -> None:
        if name == "d" and state["p"] is not None:
            parts = state["text"]
            assert isinstance(parts, list)
            found.append(RawComment(str(state["p"]), "".join(parts)))
            state["p"] = None

    def characters(data: str) -> None:
        if state["p"] is not None:
            parts = state["text"]
            assert isinstance(parts, list)
            if sum(len(part) for part in parts) < 10_000:  # one comment's text cannot be huge
                parts.append(data)

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.ExternalEntityRefHandler = refuse_doctype  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    total = 0
    try:
        while chunk := stream.read(READ_CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise XmlRefused(f"the file is larger than {size_label(max_bytes)}")
            parser.Parse(chunk, False)
            yield from found
            found.clear()
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise XmlRefused(f"not well-formed XML: {error}") from None
    yield from found


def parse_p(p: str) -> tuple[int, str, str, str]:
    """(video_ms, mode, size, color) from a `p` attribute; ValueError("unsupported_mode") etc."""
    parts = p.split(",")
    if len(parts) < 4:
        raise ValueError("malformed")
    seconds = float(parts[0])
    # Past JS_SAFE_INTEGER_LIMIT milliseconds no video has a position (and 1e308 s overflows).
    if not math.isfinite(seconds) or not 0 <= seconds * 1000 < JS_SAFE_INTEGER_LIMIT:
        raise ValueError("malformed")
    mode = MODE_FROM_BILIBILI.get(int(parts[1]))
    if mode is None:
        raise ValueError("unsupported_mode")
    color = int(parts[3])
    if not 0 <= color <= 0xFFFFFF:
        raise ValueError("malformed")
    return round(seconds * 1000), mode, size_from_bilibili(int(parts[2])), f"#{color:06x}"


def import_xml(room: Room, stream: IO[bytes], *, max_bytes: int | None = None) -> ImportReport:
    """Add every supported comment of a Bilibili XML file to the room's current recorded video.

    Every comment passes the same validation as a posted one; the rest are skipped and counted
    by reason (unsupported_mode, malformed, or a comment error code such as too_long).
    """
    video = current_video(room)
    if video is None or not video.recorded:
        raise ChatError("no_recorded_video", "Set a recorded video for this room before importing.")
    limit = max_bytes if max_bytes is not None else settings.DANMAKU_IMPORT_MAX_BYTES
    report = ImportReport()
    pending: list[RoomEvent] = []
    for raw in iter_comments(stream, limit):
        if report.imported + report.skipped_total >= settings.DANMAKU_IMPORT_MAX_COMMENTS:
            raise XmlRefused(f"the file holds more than {settings.DANMAKU_IMPORT_MAX_COMMENTS} comments")
        try:
            video_ms, mode, size, color = parse_p(raw.p)
        except ValueError as error:
            reason = str(error) if str(error) == "unsupported_mode" else "malformed"
            report.skipped[reason] += 1
            continue
        try:
            fields = {"text": raw.text, "mode": mode, "size": size, "color": color, "video_ms": video_ms}
            comment = clean_comment(fields, video)
        except ChatError as error:
            report.skipped[error.code] += 1
            continue
        report.imported += 1
        pending.append(
            RoomEvent(
                kind=EventKind.DANMAKU,
                text=comment.text,
                data={**comment.data, "imported": True},
                video_ms=comment.video_ms,
            )
        )
    report.last_seq = append_events_bulk(room, pending)
    return report


def export_rows(room: Room, video: RoomVideo | None) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<i>'
    yield f"<chatid>{escape(room.slug)}</chatid><mission>0</mission><source>k-v</source>\n"
    rows = (
        timeline(room, video)
        .order_by("video_ms", "seq")
        .values_list("pk", "video_ms", "data", "user_name", "text", "created_at")
    )
    for pk, video_ms, data, user_name, text, created_at in rows.iterator(chunk_size=2000):
        assert video_ms is not None  # the timeline has only positioned comments
        p = ",".join(
            [
                f"{video_ms / 1000:.3f}",
                str(MODE_TO_BILIBILI.get(data.get("mode"), 1)),
                str(SIZE_TO_BILIBILI.get(data.get("size"), 25)),
                str(int(str(data.get("color", "#ffffff"))[1:], 16)),
                str(int(created_at.astimezone(UTC).timestamp())),
                "0",
                user_name or "imported",
                str(pk),
            ]
        )
        yield f"<d p={quoteattr(p)}>{escape(text)}</d>\n"
    yield "</i>\n"


@require_GET
def export_view(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET /rooms/<slug>/danmaku.xml`: the current video's visible comments, in video order."""
    try:
        room = readable_room(request, slug)
    except ChatError as error:
        return error_response(error)
    # Built whole: a sync generator streamed under ASGI costs a thread hop per chunk.
    response = HttpResponse(
        "".join(export_rows(room, current_video(room))).encode(),
        content_type="application/xml; charset=utf-8",
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{room.slug}-danmaku-{stamp}.xml"'
    return response
