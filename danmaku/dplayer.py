"""DPlayer's danmaku API (v3), so a site using the DPlayer player can use this server as its backend.

- `GET /dplayer/v3/?id=<slug>&max=<n>` → `{"code": 0, "data": [[time_s, type, color_int, author, text]]}`
  (type 0 scroll, 1 top, 2 bottom; reverse comments are sent as scroll, which DPlayer lacks).
- `POST /dplayer/v3/` with DPlayer's JSON body `{id|player, author, time, text, color, type, token}`:
  the same validation, rate limit and moderation rules as every other write path. The poster is the
  signed-in user (DPlayer's `author` field is ignored: anyone could claim any name).

Errors keep DPlayer's shape (`code` non-zero, `msg`) and add our stable `error` code; HTTP statuses
mean what they do elsewhere (400, 401, 404, 413, 429 with Retry-After).

DPlayer posts JSON with axios and cannot send Django's CSRF token, so this endpoint checks the
Origin header instead (the same rule as the WebSocket handshake) and accepts only
`application/json`, which another site's page cannot send here without a CORS preflight. A
listed origin (CORS_ALLOWED_ORIGINS, the room's embed origin) passes the preflight, and then
posts only with an API token (`Authorization: Bearer`, or DPlayer's own `token` field), as the
token's account: never with this site's cookies.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from chat.domain.access import require_reader
from chat.domain.inputs import is_number, parse_int
from chat.domain.rooms import get_room
from chat.domain.tokens import authenticate, require_scope
from chat.errors import ChatError, error_response
from chat.guards.origin import origin_listed, origin_listed_anywhere, same_site
from chat.models import Room, TokenScope
from chat.types import AnyUser
from chat.web.http import json_body, query_params, write_context
from chat.web.tokens import request_token

from .comments import post_danmaku
from .models import RoomVideo
from .timeline import current_video, timeline

DPLAYER_TYPES = {0: "scroll", 1: "top", 2: "bottom"}
DPLAYER_NAMED_TYPES = {"right": "scroll", "top": "top", "bottom": "bottom"}
MODE_TO_TYPE = {"scroll": 0, "reverse": 0, "top": 1, "bottom": 2}
READ_DEFAULT_MAX = 1000
READ_MAX = 10_000


# The endpoint's path (danmaku/urls.py), whose refusals take DPlayer's shape even before Django.
DPLAYER_PATH = r"/dplayer/v3/"


def dplayer_error(error: ChatError) -> dict[str, Any]:
    """An error as DPlayer reads it: `code` 1 and `msg`; our stable code in `error`."""
    return {"code": 1, "msg": error.message, "error": error.code}


def _error(error: ChatError) -> JsonResponse:
    return error_response(error, body=dplayer_error(error))


def _room(slug: object) -> Room:
    if not isinstance(slug, str) or not slug:
        raise ChatError("invalid", _("id must name a room."), field="id")
    return get_room(slug[:50])


@csrf_exempt
def endpoint(request: HttpRequest) -> JsonResponse:
    try:
        if request.method in {"GET", "HEAD"}:
            return read(request)
        if request.method == "POST":
            return send(request)
        raise ChatError("method_not_allowed", _("Use GET, HEAD or POST."), status=405)
    except ChatError as error:
        return _error(error)


def read(request: HttpRequest) -> JsonResponse:
    query = query_params(request)
    room = _room(query.get("id"))
    require_scope(request_token(request), TokenScope.READ, room)
    require_reader(request.user, room, query.get("key"))
    limit = parse_int(query.get("max"), "max", low=1, high=READ_MAX) or READ_DEFAULT_MAX
    # DPlayer draws what it gets: the newest `max` comments, in video order. It has no
    # positioned comments (it would scroll their text): they are left out.
    newest = list(
        timeline(room, current_video(room))
        .exclude(data__mode="positioned")
        .order_by("-seq")
        .values_list("video_ms", "data", "user_name", "text", "seq")[:limit]
    )
    newest.sort(key=lambda row: (row[0], row[4]))
    data = [
        [
            (video_ms or 0) / 1000,
            MODE_TO_TYPE.get(fields.get("mode", "scroll"), 0),
            int(str(fields.get("color", "#ffffff"))[1:], 16),
            user_name,
            text,
        ]
        for video_ms, fields, user_name, text, _seq in newest
    ]
    return JsonResponse({"code": 0, "data": data})


def _color(value: object) -> object:
    """DPlayer sends an integer, or a "#rgb"/"#rrggbb" string from its colour picker."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 0xFFFFFF:
            raise ChatError("invalid_color", _("color must be between 0 and 16777215."), field="color")
        return f"#{value:06x}"
    if isinstance(value, str) and len(value) == 4 and value.startswith("#"):
        return "#" + "".join(digit * 2 for digit in value[1:])
    return value


def _mode(value: object) -> object:
    digits = value.strip() if isinstance(value, str) else ""
    # ASCII and short: int() refuses "²" and 5000 digits, which isdigit() accepts.
    if digits.isascii() and digits.isdigit() and len(digits) <= 9:
        value = int(digits)
    if isinstance(value, int) and not isinstance(value, bool) and value in DPLAYER_TYPES:
        return DPLAYER_TYPES[value]
    if isinstance(value, str) and value in DPLAYER_NAMED_TYPES:
        return DPLAYER_NAMED_TYPES[value]
    if value is None:
        return None
    raise ChatError("invalid_mode", _("type must be 0 (scroll), 1 (top) or 2 (bottom)."), field="mode")


def _video_ms(value: object, video: RoomVideo | None) -> object:
    if video is None or not video.recorded:
        return None  # a live room: DPlayer's position means nothing here
    if not is_number(value):
        raise ChatError("invalid_video_ms", _("time must be a number of seconds."), field="video_ms")
    if abs(value) > 2**40:
        raise ChatError("invalid_video_ms", _("time is out of range."), field="video_ms")
    return round(value * 1000)


def _poster(request: HttpRequest, room: Room, body: dict[str, Any]) -> AnyUser:
    """Who posts: this site's page posts as its session (or a Bearer token's account); a listed
    origin's page only as the account of a valid API token with `post` for this room (the
    header's, else DPlayer's `token` field), never as the session its cookies may carry."""
    origin = request.headers.get("Origin")
    if same_site(origin, request.get_host()):
        return request.user
    if not origin_listed(origin, room.embed_origin):
        raise ChatError("csrf_failed", _("Cross-site requests are refused."), status=403)
    token = request_token(request)
    if token is None:
        raw = body.get("token")
        if not isinstance(raw, str) or not raw:
            raise ChatError("token_required", _("Posting from another site needs an API token."), status=401)
        token = authenticate(raw)
    require_scope(token, TokenScope.POST, room)
    return token.user


def send(request: HttpRequest) -> JsonResponse:
    origin = request.headers.get("Origin")
    if not same_site(origin, request.get_host()) and not origin_listed_anywhere(origin):
        raise ChatError("csrf_failed", _("Cross-site requests are refused."), status=403)
    body: dict[str, Any] = json_body(request)
    room = _room(body.get("id", body.get("player")))
    poster = _poster(request, room, body)
    fields = {
        "text": body.get("text"),
        "mode": _mode(body.get("type")),
        "color": _color(body.get("color")),
        "video_ms": _video_ms(body.get("time"), current_video(room)),
    }
    posted = post_danmaku(room, poster, fields, write_context(request))
    if posted.event is None:  # held for a moderator's review
        return JsonResponse({"code": 0, "data": {"held": True, "message": posted.ack(None)["message"]}})
    event = posted.event
    return JsonResponse({"code": 0, "data": {"id": event.pk, "seq": event.seq, "text": event.text}})
