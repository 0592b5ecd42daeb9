"""Danmaku comments: validation and posting, shared by every write path.

A comment is a room event of kind `danmaku`: the text, plus `mode`, `color` and `size` in the
event's data and the position in the video in the indexed `video_ms` column. Every write path
(WebSocket, `POST /rooms/<slug>/messages`, DPlayer's API, the XML import) goes through
`clean_comment`, so a value refused on one is refused on all with the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from chat.domain.access import can_moderate, check_may_post
from chat.domain.inputs import is_number
from chat.domain.posting import Posted, WriteContext, publish_content
from chat.domain.text import clean_text
from chat.errors import ChatError
from chat.models import EventKind, Room
from chat.types import AnyUser

from .models import RoomVideo
from .positioned import POSITIONED_MAX_CHARS, clean_fields
from .timeline import current_video

DANMAKU_MAX_CHARS = 100
MODES = ("scroll", "top", "bottom", "reverse")
SIZES = ("small", "medium", "large")
DEFAULT_MODE = "scroll"
DEFAULT_COLOR = "#ffffff"
DEFAULT_SIZE = "medium"
# Bilibili's mode 7: posted live only by a room's owner and moderators (and site staff).
POSITIONED = "positioned"
# A recorded video of unknown length: positions up to a week are accepted.
VIDEO_MS_MAX = 7 * 24 * 3600 * 1000
_COLOR = re.compile(r"#[0-9a-fA-F]{6}\Z")


@dataclass(frozen=True)
class Comment:
    text: str
    mode: str = DEFAULT_MODE
    color: str = DEFAULT_COLOR
    size: str = DEFAULT_SIZE
    video_ms: int | None = None

    @property
    def data(self) -> dict[str, Any]:
        return {"mode": self.mode, "color": self.color, "size": self.size}


def _choice(value: object, allowed: tuple[str, ...], default: str, field: str) -> str:
    if value is None:
        return default
    if isinstance(value, str) and value in allowed:
        return value
    raise ChatError(
        f"invalid_{field}",
        _("%(field)s must be one of: %(choices)s."),
        params={"field": field, "choices": ", ".join(allowed)},
        field=field,
    )


def clean_color(value: object) -> str:
    if value is None:
        return DEFAULT_COLOR
    if isinstance(value, str) and _COLOR.match(value):
        return value.lower()
    raise ChatError("invalid_color", _('color must be "#rrggbb".'), field="color")


def clean_video_ms(value: object, video: RoomVideo | None) -> int | None:
    """The comment's position: required on a recorded video (0..duration), null on live."""
    recorded = video is not None and video.recorded
    if value is None:
        if recorded:
            raise ChatError(
                "invalid_video_ms", _("This room plays a recorded video: send video_ms."), field="video_ms"
            )
        return None
    if not recorded:
        raise ChatError("invalid_video_ms", _("This room is live: video_ms must be null."), field="video_ms")
    if not is_number(value):
        raise ChatError("invalid_video_ms", _("video_ms must be a number of milliseconds."), field="video_ms")
    position = round(value)
    high = video.duration_ms if video is not None and video.duration_ms is not None else VIDEO_MS_MAX
    if not 0 <= position <= high:
        raise ChatError(
            "invalid_video_ms",
            _("video_ms must be between 0 and %(high)s."),
            params={"high": high},
            field="video_ms",
            limit=high,
        )
    return position


def clean_comment(
    fields: dict[str, object],
    video: RoomVideo | None,
    *,
    line_breaks: bool = False,
    max_chars: int = DANMAKU_MAX_CHARS,
) -> Comment:
    """A comment from a client's fields, or ChatError with the first refused field's code.
    Live comments have their line breaks turned into spaces; imported ones keep them
    (`line_breaks`), each counting as one character."""
    if "text" not in fields:
        raise ChatError("invalid", _("A comment needs text."), field="text")
    return Comment(
        text=clean_text(fields["text"], max_chars=max_chars, line_breaks=line_breaks),
        mode=_choice(fields.get("mode"), MODES, DEFAULT_MODE, "mode"),
        color=clean_color(fields.get("color")),
        size=_choice(fields.get("size"), SIZES, DEFAULT_SIZE, "size"),
        video_ms=clean_video_ms(fields.get("video_ms"), video),
    )


def post_danmaku(
    room: Room, user: AnyUser, fields: dict[str, object], context: WriteContext | None = None
) -> Posted:
    """Validate and append (or hold) a comment by `user`; raises ChatError with a stable code.
    The same gates as a chat message (chat/domain/posting.py): access, sanctions, floods, review.
    A positioned comment (`mode: "positioned"`) needs a moderator of the room, keeps its line
    breaks and has the import's limits (docs/PROTOCOL.md)."""
    standing = check_may_post(room, user)
    if fields.get("mode") == POSITIONED:
        if not can_moderate(user, room):
            raise ChatError(
                "positioned_forbidden",
                _("Only the room's owner and moderators post positioned comments."),
                status=403,
                field="mode",
            )
        plain = {**fields, "mode": None}
        comment = clean_comment(plain, current_video(room), line_breaks=True, max_chars=POSITIONED_MAX_CHARS)
        data = {**comment.data, "mode": POSITIONED, "positioned": clean_fields(fields.get("positioned"))}
    else:
        comment = clean_comment(fields, current_video(room))
        data = comment.data
    return publish_content(
        standing,
        user,
        EventKind.DANMAKU,
        comment.text,
        context or WriteContext(),
        data=data,
        video_ms=comment.video_ms,
    )


def submit_danmaku(room: Room, user: AnyUser, frame: dict[str, object], context: WriteContext) -> Posted:
    """A `{"type": "danmaku", ...}` frame from any transport."""
    return post_danmaku(room, user, frame, context)
