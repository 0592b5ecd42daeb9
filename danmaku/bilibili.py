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
from django.views.decorators.http import require_safe

from chat.clients import client_address
from chat.domain.inputs import JS_SAFE_INTEGER_LIMIT
from chat.domain.wire import size_label
from chat.errors import ChatError, error_response, rate_limited
from chat.extensions import HTTP_WRITER, scope_extension
from chat.guards.ratelimit import hit, parse_rate
from chat.models import Room
from chat.web.http import readable_room

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


def export_row(row: tuple[Any, ...]) -> str:
    video_ms, _seq, pk, data, user_name, text, created_at = row
    p = ",".join(
        [
            f"{video_ms / 1000:.3f}",
            str(MODE_TO_BILIBILI.get(data.get("mode"), 1)),
            str(SIZE_TO_BILIBILI.get(data.get("size"), 25)),
            str(int(str(data.get("color", "#ffffff"))[1:], 16)),
            str(int(created_at.astimezone(UTC).timestamp())),
            "0",
            xml_text(user_name or "") or "imported",
            str(pk),
        ]
    )
    return f"<d p={quoteattr(p)}>{escape(xml_text(text))}</d>\n"


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
            raise rate_limited("Too many exports from your network.", retry_after)
    except ChatError as error:
        return error_response(error)
    writer = scope_extension(getattr(request, "scope", None), HTTP_WRITER)
    response = StreamingHttpResponse(
        export_stream(room, current_video(room), writer), content_type="application/xml; charset=utf-8"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{room.slug}-danmaku-{stamp}.xml"'
    return response
