"""SSE and long-poll behind Pushpin (GRIP): the backend answers, Pushpin holds the connection.

A request that carries a `Grip-Sig` signed with `GRIP_KEY` came through Pushpin. It is answered
at once with what the direct transports would send first (SSE: `retry`, `hello`, a `reset` if
the cursor cannot be resumed, the backlog; long-poll: the backlog, or the empty answer that
Pushpin sends when the hold times out), plus instructions for Pushpin:

- `Grip-Hold` (`stream` for SSE, `response` for long-poll) and `Grip-Channel` for the room with
  `prev-id` = the last seq sent: Pushpin then sends each event published with that `prev-id`
  (chat/realtime/grip.py) and knows when one is missing;
- `Grip-Keep-Alive`, the SSE comment every KEEPALIVE_SECS;
- `Grip-Link` (rel=next), where Pushpin asks for what it missed (`Grip-Last: room-<id>;
  last-id=<seq>`): after a gap it did not see filled within its `message_wait`, and once
  right after the hold starts (events committed between the backlog's read and its
  subscription). The link carries the reader signed (`LINK_SALT`): Pushpin's request has no
  cookies, and the access check is made again on it.

docs/DECISIONS.md "Pushpin" explains the ordering and the gaps, and where limits apply.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any
from urllib.parse import quote

import jwt
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.utils.translation import gettext_lazy as _

from chat.clients import header, query_param
from chat.domain.access import can_read
from chat.domain.eventlog import events_after, log_position
from chat.domain.tokens import ended_tokens
from chat.domain.wire import WireEvent, dumps, hello_payload, reset_frame, sse_block, sse_events
from chat.errors import ChatError, private_room
from chat.models import Room
from chat.realtime.batch import Batch, RateSampler
from chat.realtime.grip import (
    grip_enabled,
    poll_body,
    rate_channel,
    register_rate,
    room_channel,
    token_channel,
)
from chat.realtime.hub import get_hub
from chat.realtime.subscription import resume_point
from chat.types import Scope, Send

from .http import send_error, send_json
from .language import error_text

logger = logging.getLogger(__name__)

# The query parameter of the recovery link, and the salt of its signature.
LINK_PARAM = "grip_link"
LINK_SALT = "chat.transports.grip.link"
# A keep-alive comment at least this often (as the direct SSE stream, docs/PROTOCOL.md).
KEEPALIVE_SECS = 15
RETRY_MS = 3000  # as sse.py
# `Grip-Last: room-12; last-id=40`
_GRIP_LAST = re.compile(r"^\s*(?P<channel>[A-Za-z0-9._-]+)\s*;\s*last-id=(?P<seq>\d{1,18})\s*$")

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
]


def via_pushpin(scope: Scope) -> bool:
    """The request came through Pushpin: GRIP is on and its `Grip-Sig` verifies with GRIP_KEY
    (remembered in the scope: asked for the address, then by the endpoint)."""
    known = scope.get("grip")
    if known is not None:
        return bool(known)
    verified = False
    signature = header(scope, b"grip-sig")
    if signature and grip_enabled():
        try:
            jwt.decode(signature, settings.GRIP_KEY, algorithms=["HS256"], options={"require": ["exp"]})
            verified = True
        except jwt.PyJWTError:
            logger.info("grip: a Grip-Sig that does not verify; the request is answered directly")
    scope["grip"] = verified
    return verified


def trust_forwarded_address(scope: Scope) -> None:
    """Behind Pushpin, the client's address is the first `X-Forwarded-For` entry, believed only
    on a verified `Grip-Sig`: the one the front-most proxy wrote, replacing whatever the client
    sent (nginx's `$remote_addr`, or Pushpin's own `truncate:0,append` when clients reach it
    directly: deploy/pushpin.conf). The same rule as daphne's --proxy-headers."""
    if not via_pushpin(scope):
        return
    forwarded = header(scope, b"x-forwarded-for")
    if forwarded:
        address = forwarded.split(",", 1)[0].strip()
        if address:
            scope["client"] = (address, 0)


def _link(scope: Scope, room: Room, kind: str, max_rate: int | None = None) -> str:
    """The `Grip-Link` header: this endpoint, with the reader signed in the query."""
    token = scope.get("api_token")
    user = scope.get("user")
    reader = {
        "r": room.pk,
        "k": kind,
        "u": user.pk if user is not None and user.is_authenticated else None,
        "o": _key_digest(query_param(scope, "key")),  # an overlay's key (private rooms), hashed
        "t": token.pk if token is not None else None,
        "m": max_rate,
    }
    signed = signing.dumps(reader, salt=LINK_SALT, compress=True)
    return f"<{scope['path']}?{LINK_PARAM}={quote(signed)}>; rel=next"


def _key_digest(key: str | None) -> str | None:
    """An overlay key as the link carries it: hashed, since links appear in request logs
    (daphne's, Pushpin's), and a signed value is readable by anyone who sees it."""
    return hashlib.sha256(key.encode()).hexdigest() if key else None


def _events_channel(room_id: int, max_rate: int | None) -> str:
    return room_channel(room_id) if max_rate is None else rate_channel(room_id, max_rate)


def _channels(channel: str, prev_id: int, token_id: int | None) -> str:
    channels = [f"{channel}; prev-id={prev_id}"]
    if token_id is not None:
        channels.append(token_channel(token_id))  # ended when the token is revoked
    return ", ".join(channels)


def _hold_headers(hold: str, channel: str, prev_id: int, token_id: int | None, link: str) -> list[Any]:
    headers = [
        (b"grip-hold", hold.encode()),
        (b"grip-channel", _channels(channel, prev_id, token_id).encode()),
        (b"grip-link", link.encode()),
    ]
    if hold == "stream":
        keepalive = f": keep-alive\\n\\n; format=cstring; timeout={KEEPALIVE_SECS}"
        headers.append((b"grip-keep-alive", keepalive.encode()))
    return headers


async def _greeting_presence(room_id: int, key: str, name: str) -> dict[str, object]:
    """The room's presence for the greeting, with the viewer in it, as the direct transports
    give it: read from the presence store (which counts the viewers Pushpin holds, with
    GRIP_STATS), without joining the room's feed (this process holds nothing). The hub runs
    from here on: it reads Pushpin's statistics."""
    hub = get_hub()
    await hub.start()
    snapshot = await hub.presence_store.snapshot(room_id)
    return snapshot.with_member(key, name).as_dict()


async def hold_stream(
    scope: Scope,
    send: Send,
    room: Room,
    after: int | None,
    epoch: str | None,
    presence: tuple[str, str],
    max_rate: int | None,
) -> bool:
    """An SSE request through Pushpin: greeting and backlog, then held on the room's channel (a
    sampled one for `max_rate`). False when the room has too many sampled rates already
    (RATES_PER_ROOM_MAX): the caller streams it itself, through Pushpin."""
    if max_rate is not None and not await database_sync_to_async(register_rate)(room.pk, max_rate):
        return False
    last_seq, log_epoch = await database_sync_to_async(log_position)(room.pk)
    user = scope.get("user")
    greeting = await _greeting_presence(room.pk, *presence)
    hello = hello_payload(room, last_seq, user, greeting, log_epoch)
    body = f"retry: {RETRY_MS}\n" + sse_block("hello", dumps(hello))
    cursor, reset = resume_point(after, last_seq, settings.CHAT_BACKLOG_MAX, epoch, log_epoch)
    if reset is not None:
        body += sse_block("reset", dumps(reset_frame(last_seq, reset, log_epoch)))
    backlog = await _backlog(room.pk, cursor)
    body += sse_events(_sampled(backlog, max_rate))
    prev_id = int(backlog[-1]["seq"]) if backlog else cursor  # past skipped comments too
    token = scope.get("api_token")
    link = _link(scope, room, "sse", max_rate)
    channel = _events_channel(room.pk, max_rate)
    headers = SSE_HEADERS + _hold_headers("stream", channel, prev_id, token.pk if token else None, link)
    await _send(send, 200, headers, body.encode())
    return True


def _sampled(events: list[WireEvent], max_rate: int | None) -> list[WireEvent]:
    """The backlog a viewer of `max_rate` gets (the same rule as live, chat/realtime/batch.py)."""
    if max_rate is None or not events:
        return events
    return Batch(events).sampled(RateSampler(max_rate)).events


async def hold_poll(
    scope: Scope, send: Send, room: Room, cursor: int, wait: int, answer: dict[str, Any]
) -> bool:
    """A long-poll through Pushpin with nothing newer than `cursor`: held on the room's channel
    until an event is published or `wait` seconds pass (then Pushpin sends `answer`). False when
    there is something to answer at once (the caller answers as without Pushpin)."""
    if wait <= 0 or await _backlog(room.pk, cursor, limit=1):
        return False
    token = scope.get("api_token")
    link = _link(scope, room, "poll")
    headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"grip-timeout", str(wait).encode()),
        *_hold_headers("response", room_channel(room.pk), cursor, token.pk if token else None, link),
    ]
    await _send(send, 200, headers, dumps(answer).encode())
    return True


def is_link_request(scope: Scope) -> bool:
    """Pushpin asking through a `Grip-Link` for what it missed."""
    return query_param(scope, LINK_PARAM) is not None and via_pushpin(scope)


async def answer_link(scope: Scope, send: Send) -> None:
    """What Pushpin missed since `Grip-Last`, for the reader the link names; held again after
    it. A reader who may no longer read the room: the stream ends with `refused` (a poll gets
    the refusal)."""
    try:
        reader = signing.loads(str(query_param(scope, LINK_PARAM)), salt=LINK_SALT)
        max_rate = None if reader.get("m") is None else int(reader["m"])
        channel = _events_channel(int(reader["r"]), max_rate)
        cursor = _grip_last(header(scope, b"grip-last"), channel)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        await send_error(
            scope, send, ChatError("invalid", _("Not a recovery link of this server."), status=400)
        )
        return
    room, refusal = await database_sync_to_async(_reader_room)(reader)
    stream = reader.get("k") == "sse"
    if room is None or refusal is not None:
        error = refusal or private_room()
        if stream:
            await _send(
                send, 200, list(SSE_HEADERS), sse_block("refused", await error_text(scope, error)).encode()
            )
        else:
            await send_error(scope, send, error)
        return
    if max_rate is not None:
        await database_sync_to_async(register_rate)(room.pk, max_rate)  # still held: keep publishing
    backlog = await _backlog(room.pk, cursor)
    last = int(backlog[-1]["seq"]) if backlog else cursor
    token_id = reader.get("t")
    link = f"<{scope['path']}?{LINK_PARAM}={quote(str(query_param(scope, LINK_PARAM)))}>; rel=next"
    if stream:
        headers = SSE_HEADERS + _hold_headers("stream", channel, last, token_id, link)
        await _send(send, 200, headers, sse_events(_sampled(backlog, max_rate)).encode())
    elif backlog:  # the poll is answered with what it missed
        await send_json(send, 200, {"events": backlog, "last_seq": last})
    else:
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            *_hold_headers("response", channel, last, token_id, link),
        ]
        await _send(send, 200, headers, poll_body([], last).encode())


def _grip_last(raw: str | None, channel: str) -> int:
    """The seq in `Grip-Last` for `channel` (ValueError when absent or malformed)."""
    for part in (raw or "").split(","):
        match = _GRIP_LAST.match(part)
        if match is not None and match["channel"] == channel:
            return int(match["seq"])
    raise ValueError("no Grip-Last for the room's channel")


def _reader_room(reader: dict[str, Any]) -> tuple[Room | None, ChatError | None]:
    """The link's room, and the refusal its reader would get now (None: may read it)."""
    room = Room.objects.filter(pk=int(reader["r"])).first()
    if room is None:
        return None, None
    token_id = reader.get("t")
    if token_id is not None:
        ended = ended_tokens([int(token_id)]).get(int(token_id))
        if ended is not None:
            return room, ended
    user: Any = AnonymousUser()
    if reader.get("u") is not None:
        user = get_user_model().objects.filter(pk=int(reader["u"]), is_active=True).first() or AnonymousUser()
    digest = reader.get("o")
    key_matches = bool(room.overlay_key and digest) and hmac.compare_digest(
        str(_key_digest(room.overlay_key)), str(digest)
    )
    if not (key_matches or can_read(user, room)):
        return room, private_room()
    return room, None


async def _backlog(room_id: int, cursor: int, limit: int | None = None) -> list[WireEvent]:
    count = settings.CHAT_BACKLOG_MAX if limit is None else limit
    return list(await database_sync_to_async(events_after)(room_id, cursor, count))


async def _send(send: Send, status: int, headers: list[Any], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
