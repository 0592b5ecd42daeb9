"""Bilibili's danmaku XML: export at `/rooms/<slug>/danmaku.xml` and import (`import_danmaku`).

    <i><chatid>slug</chatid><d p="time,mode,size,colour,timestamp,pool,user,id">text</d>...</i>

`time` is seconds into the video, `mode` 1 scroll, 4 bottom, 5 top, 6 reverse, 7 positioned
(danmaku/positioned.py; 8 is code, skipped as `code_comment`, and the rest `unsupported_mode`),
`size` a font size in pixels (25 is Bilibili's normal), `colour` a decimal RGB integer,
`timestamp` Unix seconds, `pool` 0 normal, 1 subtitle, 2 special, `user` a sender hash and `id`
the comment's id. An imported comment keeps its timestamp, pool and sender (`sent_at`, `pool`,
`sender` in its data) and the export writes them back; `/n` in a text is a line break. The same
reader takes Niconico's `<packet>` files (danmaku/niconico.py); the root element says which.

The parser is expat driven by hand: a document with a DOCTYPE (the door to entity expansion and
external entities) is refused outright, input is read in chunks with a byte ceiling, so a huge or
hostile file costs bounded memory and time.
"""

from __future__ import annotations

import asyncio
import math
import re
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from chat.clients import client_address
from chat.domain.inputs import JS_SAFE_INTEGER_LIMIT
from chat.domain.wire import size_label
from chat.errors import ChatError, Text, error_response, rate_limited
from chat.extensions import HTTP_WRITER, scope_extension
from chat.guards.ratelimit import hit, parse_rate
from chat.models import Room
from chat.web.http import readable_room

from .models import RoomVideo
from .niconico import parse_mail, parse_vpos
from .positioned import export_payload, parse_payload
from .timeline import current_video, timeline

MODE_FROM_BILIBILI = {1: "scroll", 4: "bottom", 5: "top", 6: "reverse"}
MODE_TO_BILIBILI = {mode: code for code, mode in MODE_FROM_BILIBILI.items()}
POSITIONED_CODE = 7
MODE_TO_BILIBILI["positioned"] = POSITIONED_CODE
SIZE_TO_BILIBILI = {"small": 18, "medium": 25, "large": 36}
READ_CHUNK = 64 * 1024


def size_from_bilibili(pixels: int) -> str:
    if pixels < 25:
        return "small"
    return "medium" if pixels == 25 else "large"


class XmlRefused(Exception):
    """The document is not one we will read (DOCTYPE, too large, malformed: `invalid_xml`; in
    neither Bilibili's nor Niconico's format: `unknown_format`)."""

    def __init__(self, message: str | Promise | Text, code: str = "invalid_xml") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


@dataclass
class ImportReport:
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    last_seq: int = 0
    format: str = ""
    # Niconico commands without an equivalent here, by name: ignored, the comment imported.
    ignored_commands: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


# The formats an import reads, by their root element, and each one's comment element.
FORMATS = {"i": ("bilibili", "d"), "packet": ("niconico", "chat")}


@dataclass(frozen=True)
class RawComment:
    """A comment element: Bilibili's `<d p>` or Niconico's `<chat vpos mail ...>`."""

    attrs: dict[str, str]
    text: str

    @property
    def p(self) -> str:
        return self.attrs.get("p", "")


@dataclass
class _Reading:
    format: str = ""
    element: str = ""
    depth: int = 0
    attrs: dict[str, str] | None = None
    text: list[str] = field(default_factory=list)
    length: int = 0


def iter_comments(
    stream: IO[bytes], max_bytes: int, report: ImportReport | None = None
) -> Iterator[RawComment]:
    """The comment elements of a Bilibili or Niconico XML document, in document order; the root
    element says which format it is (set in `report.format`). A document in neither format,
    or none at all, is refused with the code `unknown_format`."""
    parser = expat.ParserCreate()
    found: list[RawComment] = []
    reading = _Reading()

    def refuse_doctype(*_args: object) -> None:
        raise XmlRefused(_("documents with a DOCTYPE (entities) are refused"))

    def start(name: str, attrs: dict[str, str]) -> None:
        reading.depth += 1
        if reading.depth == 1:
            if name not in FORMATS:
                raise XmlRefused(
                    Text(
                        _(
                            "<%(name)s> documents are neither Bilibili's (<i>) nor Niconico's (<packet>) "
                            "danmaku"
                        ),
                        name=name[:40],
                    ),
                    "unknown_format",
                )
            reading.format, reading.element = FORMATS[name]
            if report is not None:
                report.format = reading.format
        elif name == reading.element and reading.attrs is None:
            reading.attrs = dict(attrs)
            reading.text = []
            reading.length = 0

    def end(name: str) -> None:
        reading.depth -= 1
        if name == reading.element and reading.attrs is not None:
            found.append(RawComment(reading.attrs, "".join(reading.text)))
            reading.attrs = None

    def characters(data: str) -> None:
        if reading.attrs is not None and reading.length < 10_000:  # one comment's text cannot be huge
            reading.text.append(data)
            reading.length += len(data)

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
                raise XmlRefused(Text(_("the file is larger than %(limit)s"), limit=size_label(max_bytes)))
            parser.Parse(chunk, False)
            yield from found
            found.clear()
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        if not reading.format:
            raise XmlRefused(
                _("the file is not danmaku XML (neither Bilibili's nor Niconico's format)"), "unknown_format"
            ) from None
        raise XmlRefused(Text(_("not well-formed XML: %(error)s"), error=error)) from None
    yield from found


# Bilibili writes a line break in a comment as these two characters.
LINE_BREAK = "/n"
# The highest Unix time a `timestamp` or Niconico `date` may be (the end of year 9999).
SENT_AT_MAX = 253_402_300_799
_SENDER = re.compile(r"[A-Za-z0-9_:.\-]{1,64}\Z")


@dataclass(frozen=True)
class Parsed:
    """A comment element's fields for `clean_comment`, and what it keeps of the original."""

    video_ms: int
    mode: str
    size: str
    color: str
    text: str
    extra: dict[str, Any]


def sent_at(value: str) -> str | None:
    """A Unix time in seconds as the wire writes times (None when it is not one)."""
    try:
        seconds = int(value)
    except ValueError:
        return None
    if not 0 <= seconds <= SENT_AT_MAX:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat()[:19] + ".000Z"  # strftime is 3x slower


def original(timestamp: str | None, pool: str | None, sender: str | None) -> dict[str, Any]:
    """The original metadata a file gives (a value out of bounds is left out, not refused)."""
    extra: dict[str, Any] = {}
    when = sent_at(timestamp) if timestamp is not None else None
    if when is not None:
        extra["sent_at"] = when
    if pool is not None and pool.strip() in ("0", "1", "2"):
        extra["pool"] = int(pool)
    # "imported" is what the export writes for a comment without a sender: none.
    if sender is not None and sender != "imported" and _SENDER.match(sender):
        extra["sender"] = sender
    return extra


def parse_p(p: str) -> tuple[int, int, str, str, dict[str, Any]]:
    """(video_ms, Bilibili mode, size, color, original metadata) from a `p` attribute;
    ValueError("malformed"), ("unsupported_mode") or ("code_comment")."""
    parts = p.split(",")
    if len(parts) < 4:
        raise ValueError("malformed")
    seconds = float(parts[0])
    # Past JS_SAFE_INTEGER_LIMIT milliseconds no video has a position (and 1e308 s overflows).
    if not math.isfinite(seconds) or not 0 <= seconds * 1000 < JS_SAFE_INTEGER_LIMIT:
        raise ValueError("malformed")
    code = int(parts[1])
    if code == 8:
        raise ValueError("code_comment")  # a script for Bilibili's player: never run
    if code not in MODE_FROM_BILIBILI and code != POSITIONED_CODE:
        raise ValueError("unsupported_mode")
    color = int(parts[3])
    if not 0 <= color <= 0xFFFFFF:
        raise ValueError("malformed")
    extra = original(*(parts[index] if len(parts) > index else None for index in (4, 5, 6)))
    return round(seconds * 1000), code, size_from_bilibili(int(parts[2])), f"#{color:06x}", extra


def parse_bilibili(raw: RawComment) -> Parsed:
    """A `<d>` element's comment; ValueError with the reason it is skipped."""
    video_ms, code, size, color, extra = parse_p(raw.p)
    if code == POSITIONED_CODE:
        text, fields = parse_payload(raw.text)
        return Parsed(video_ms, "positioned", size, color, text, {**extra, "positioned": fields})
    return Parsed(video_ms, MODE_FROM_BILIBILI[code], size, color, raw.text.replace(LINE_BREAK, "\n"), extra)


def parse_niconico(raw: RawComment, ignored: Counter[str]) -> Parsed:
    """A `<chat>` element's comment; ValueError with the reason it is skipped."""
    video_ms = parse_vpos(raw.attrs.get("vpos", ""))
    if raw.text.lstrip().startswith("/"):
        raise ValueError("code_comment")  # the uploader's script (/nicoscript, /replace, ...)
    style = parse_mail(raw.attrs.get("mail", ""), ignored)
    extra = original(raw.attrs.get("date"), None, raw.attrs.get("user_id"))
    return Parsed(
        video_ms, style.mode or "scroll", style.size or "medium", style.color or "#ffffff", raw.text, extra
    )


# Comments per database read of an export, and what a client may leave unread before the export
# waits for it: an export's memory is about one page and this buffer, whatever the room's size.
EXPORT_PAGE = 2000
EXPORT_UNREAD_MAX_BYTES = 1024 * 1024
# A client that reads nothing for this long loses the connection (it holds a page of memory).
EXPORT_STALL_SECONDS = 60.0
# Pages built at once in one process, whatever the number of exports: each page is tens of
# milliseconds of Python, and 24 exports building theirs together starved every other request.
EXPORT_PAGES_AT_ONCE = 1
EXPORT_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<i>'
_EXPORT_COLUMNS = ("video_ms", "seq", "pk", "data", "user_name", "text", "created_at")


def export_page(room: Room, video: RoomVideo | None, after: tuple[int, int] | None) -> list[tuple[Any, ...]]:
    """The next EXPORT_PAGE comments in video order after (video_ms, seq): one index range scan."""
    rows = timeline(room, video)
    if after is not None:
        # (video_ms, seq) > after, written so that the index range starts at video_ms >= after:
        # with the OR alone SQLite scans the room from its first comment on every page.
        position, seq = after
        rows = rows.filter(Q(video_ms__gte=position), Q(video_ms__gt=position) | Q(seq__gt=seq))
    return list(rows.order_by("video_ms", "seq").values_list(*_EXPORT_COLUMNS)[:EXPORT_PAGE])


# Characters outside XML 1.0's Char production. Input cleaning refuses them today
# (chat/domain/text.py), but rows stored before it did, or written around it, must not make the
# export unparseable for everyone: they are left out on the way out.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` without the characters an XML 1.0 document cannot hold."""
    return _NOT_XML_CHAR.sub("", value)


def _export_timestamp(data: dict[str, Any], created_at: datetime) -> int:
    """The original send time an imported comment kept, else when it was written here."""
    kept = data.get("sent_at")
    if isinstance(kept, str):
        try:
            return int(datetime.fromisoformat(kept).timestamp())
        except ValueError:
            pass
    return int(created_at.astimezone(UTC).timestamp())


def export_row(row: tuple[Any, ...]) -> str:
    video_ms, _seq, pk, data, user_name, text, created_at = row
    mode = data.get("mode")
    pool = data.get("pool")
    p = ",".join(
        [
            f"{video_ms / 1000:.3f}",
            str(MODE_TO_BILIBILI.get(mode, 1)),
            str(SIZE_TO_BILIBILI.get(data.get("size"), 25)),
            str(int(str(data.get("color", "#ffffff"))[1:], 16)),
            str(_export_timestamp(data, created_at)),
            str(pool) if pool in (0, 1, 2) else "0",
            xml_text(str(data.get("sender") or user_name or "")) or "imported",
            str(pk),
        ]
    )
    if mode == "positioned" and isinstance(data.get("positioned"), dict):
        body = export_payload(text, data["positioned"])
    else:
        body = text.replace("\n", LINE_BREAK)
    return f"<d p={quoteattr(p)}>{escape(xml_text(body))}</d>\n"


async def export_stream(room: Room, video: RoomVideo | None, writer: Any = None) -> AsyncIterator[bytes]:
    """The document a page at a time. With daphne's connection writer (chat/transports/direct.py)
    it waits while the client has EXPORT_UNREAD_MAX_BYTES unread, so a slow or stalled reader
    holds a page, not the room: Twisted would otherwise buffer everything sent."""
    head = f"<chatid>{escape(room.slug)}</chatid><mission>0</mission><source>k-v</source>\n"
    yield (EXPORT_HEAD + head).encode()
    after: tuple[int, int] | None = None
    while True:
        async with _page_slots():
            page = await sync_to_async(export_page)(room, video, after)
        if page:
            yield "".join(export_row(row) for row in page).encode()
            after = (page[-1][0], page[-1][1])
        if len(page) < EXPORT_PAGE:
            break
        if not await _client_keeps_up(writer):
            return
    yield b"</i>\n"


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _page_slots() -> asyncio.Semaphore:
    """This event loop's EXPORT_PAGES_AT_ONCE slots (a semaphore belongs to one loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(EXPORT_PAGES_AT_ONCE)
    return _slots[loop]


async def _client_keeps_up(writer: Any) -> bool:
    """Wait until the client has read all but EXPORT_UNREAD_MAX_BYTES; False (the connection is
    dropped) when it read nothing for EXPORT_STALL_SECONDS."""
    if writer is None:
        return True
    waited = 0.0
    while writer.buffered() > EXPORT_UNREAD_MAX_BYTES:
        if waited >= EXPORT_STALL_SECONDS:
            writer.abort()
            return False
        await asyncio.sleep(0.05)
        waited += 0.05
    return True


@require_safe
def export_view(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    """`GET /rooms/<slug>/danmaku.xml`: the current video's visible comments, in video order,
    streamed; each address may start DANMAKU_EXPORT_RATE_IP of them."""
    try:
        room = readable_room(request, slug)
        retry_after = hit(
            f"danmaku-export:ip:{client_address(request)}", parse_rate(settings.DANMAKU_EXPORT_RATE_IP)
        )
        if retry_after is not None:
            raise rate_limited(_("Too many exports from your network."), retry_after)
    except ChatError as error:
        return error_response(error)
    writer = scope_extension(getattr(request, "scope", None), HTTP_WRITER)
    response = StreamingHttpResponse(
        export_stream(room, current_video(room), writer), content_type="application/xml; charset=utf-8"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{room.slug}-danmaku-{stamp}.xml"'
    return response
