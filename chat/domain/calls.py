"""A room's voice/video call, transport-free: who may join (`check_may_join_call`), what a
client's call frame may carry (`clean_call_frame`), and the ICE servers with coturn's
short-lived TURN credentials (`ice_servers`). The roster and the relay are the fan-out's
(chat/realtime/calls.py); the WebSocket's part is chat/transports/calls.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from chat.errors import ChatError, login_required, private_room
from chat.guards.cache import cache_failed, shared_cache
from chat.models import CallAccess, CallInvite, Room
from chat.types import AnyUser

from .access import active_sanction, load_standing
from .audit import audit

# A mesh: every participant sends its media to every other, so each uploads N-1 streams. Six
# is what a home uplink carries for video at the browsers' default bitrates (docs/DECISIONS.md).
CALL_MAX_PARTICIPANTS = 6
# A session description of a call with audio and video is 3-8 KiB in Chromium and Firefox;
# 32 KiB leaves room for many codecs and simulcast without letting a frame carry a payload.
SDP_MAX_CHARS = 32 * 1024
CANDIDATE_MAX_CHARS = 1024  # an ICE candidate line is about 100-200 characters
PARTICIPANT_ID_MAX_CHARS = 32

SIGNAL_KINDS = frozenset({"offer", "answer", "candidate"})


@dataclass(frozen=True, slots=True)
class CallStanding:
    """What a join needs from the database: the user may join, and whether they moderate."""

    moderates: bool


def check_may_join_call(room: Room, user: AnyUser) -> CallStanding:
    """Who may join the room's call: signed in, not banned or timed out, a member of a private
    room, and allowed by the room's `call_access`. Raises a ChatError with a stable code."""
    if not user.is_authenticated:
        raise login_required()
    standing = load_standing(room, user)
    fresh = standing.room
    if fresh.private and not (standing.member or standing.moderates):
        raise private_room()
    if standing.sanctioned:
        sanction = active_sanction(fresh, user)
        if sanction is not None:
            code = "banned" if sanction.kind == "ban" else "muted"
            raise ChatError(code, _("You may not join this room's call while sanctioned."), status=403)
    if not standing.moderates:
        check_not_removed(room, user)
    access = Room.objects.filter(pk=room.pk).values_list("call_access", flat=True).first()
    if standing.moderates or access == CallAccess.SIGNED_IN:
        return CallStanding(moderates=standing.moderates)
    if access == CallAccess.MEMBERS and standing.member:
        return CallStanding(moderates=False)
    if access == CallAccess.INVITED and CallInvite.objects.filter(room_id=room.pk, user_id=user.pk).exists():
        return CallStanding(moderates=False)
    raise ChatError(
        "call_forbidden",
        _("Only the room's members and moderators may join its call.")
        if access == CallAccess.MEMBERS
        else _("Only the room's invited accounts and moderators may join its call."),
        status=403,
    )


# Removal from the call (docs/DECISIONS.md "Removed from a call"): a participant a moderator
# removed stays out of the room's call this long (CHAT_CALL_REMOVAL_SECS), as a streaming
# tool's "remove from call" does; a ban or timeout keeps someone out for longer. The bar lives
# in the shared cache (Redis with REDIS_URL), so every process sees it at once.


def _removal_key(room_id: int, user_id: int) -> str:
    return f"call-removed:{room_id}:{user_id}"


def bar_from_call(room: Room, user_id: int, now: float | None = None) -> int:
    """Keep `user_id` out of the room's call for CHAT_CALL_REMOVAL_SECS; returns that length."""
    seconds = int(settings.CHAT_CALL_REMOVAL_SECS)
    if seconds <= 0:
        return 0
    until = (now if now is not None else time.time()) + seconds
    try:
        shared_cache().set(_removal_key(room.pk, user_id), until, timeout=seconds)
    except Exception:
        cache_failed("a removal from a call")
    return seconds


def removal_left(room: Room, user_id: int, now: float | None = None) -> int:
    """Seconds `user_id` must still wait to join the room's call again after a removal; 0: none."""
    try:
        until = shared_cache().get(_removal_key(room.pk, user_id))
    except Exception:
        cache_failed("the check of a removal from a call")  # fail open, as the rate limits do
        return 0
    if not isinstance(until, (int, float)):
        return 0
    left = until - (now if now is not None else time.time())
    return max(0, int(left + 0.999))


def remove_from_call(room: Room, actor: AnyUser, user_id: int) -> int:
    """A moderator removed `user_id` from the call: keep them out (unless they moderate the
    room: moderators may always join) and write it in the audit log. The bar's length, or 0."""
    target = get_user_model().objects.filter(pk=user_id).first()
    if target is None:
        return 0
    seconds = 0 if load_standing(room, target).moderates else bar_from_call(room, user_id)
    audit(room, actor, "call_remove", target=target, seconds=seconds)
    return seconds


def check_not_removed(room: Room, user: AnyUser) -> None:
    left = removal_left(room, int(user.pk or 0))
    if left > 0:
        minutes = (left + 59) // 60
        message = ngettext_lazy(
            "A moderator removed you from this call; you may join it again in %(minutes)s minute.",
            "A moderator removed you from this call; you may join it again in %(minutes)s minutes.",
            "minutes",
        )
        raise ChatError("call_removed", message, status=403, params={"minutes": minutes}, retry_after=left)


def _text(frame: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str | None:
    value = frame.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ChatError("invalid", _("%(name)s must be a string."), params={"name": name})
    if len(value) > limit:
        raise ChatError(
            "too_long",
            _("%(name)s is limited to %(limit)s characters."),
            params={"name": name, "limit": limit},
            status=413,
        )
    return value


def clean_participant_id(value: Any, name: str = "to") -> str:
    if not isinstance(value, str) or not value or len(value) > PARTICIPANT_ID_MAX_CHARS:
        raise ChatError("invalid", _("%(name)s must be a participant id."), params={"name": name})
    return value


def clean_signal(frame: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A `call.signal` frame: (the target's participant id, the payload relayed to it)."""
    to = clean_participant_id(frame.get("to"))
    kind = frame.get("kind")
    if kind not in SIGNAL_KINDS:
        raise ChatError(
            "invalid", _("kind must be one of: %(kinds)s."), params={"kinds": ", ".join(sorted(SIGNAL_KINDS))}
        )
    payload: dict[str, Any] = {"kind": kind}
    if kind == "candidate":
        payload["candidate"] = _text(frame, "candidate", CANDIDATE_MAX_CHARS, required=False) or ""
        mid = frame.get("sdp_mid")
        payload["sdp_mid"] = _text(frame, "sdp_mid", 64) if mid is not None else None
        index = frame.get("sdp_mline_index")
        if index is not None and (type(index) is not int or not 0 <= index < 256):
            raise ChatError("invalid", _("sdp_mline_index must be an integer from 0 to 255."))
        payload["sdp_mline_index"] = index
    else:
        payload["sdp"] = _text(frame, "sdp", SDP_MAX_CHARS)
    return to, payload


def clean_media(frame: dict[str, Any]) -> dict[str, bool]:
    """The media flags of `call.join` and `call.mute`: what the participant sends and mutes."""
    media: dict[str, bool] = {}
    for name in ("audio", "video", "audio_muted", "video_muted"):
        value = frame.get(name, False)
        if not isinstance(value, bool):
            raise ChatError("invalid", _("%(name)s must be true or false."), params={"name": name})
        media[name] = value
    return media


# ICE servers.


def turn_credentials(user_id: int, secret: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    """coturn's shared-secret REST credentials (`use-auth-secret`): the username is
    `<expiry unix time>:<user>`, the password base64(HMAC-SHA1(secret, username))."""
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(user: AnyUser) -> dict[str, Any]:
    """The RTCPeerConnection `iceServers` for `user`, from settings, with TURN credentials
    valid CHAT_TURN_TTL seconds; `ttl` tells the page when to ask again."""
    servers: list[dict[str, Any]] = []
    if settings.CHAT_STUN_URLS:
        servers.append({"urls": list(settings.CHAT_STUN_URLS)})
    ttl = int(settings.CHAT_TURN_TTL)
    if settings.CHAT_TURN_URLS and settings.CHAT_TURN_SECRET:
        username, credential = turn_credentials(int(user.pk or 0), settings.CHAT_TURN_SECRET, ttl)
        turn = {"urls": list(settings.CHAT_TURN_URLS), "username": username, "credential": credential}
        servers.append(turn)
    return {"ice_servers": servers, "ttl": ttl}


# The owner's call settings.


def update_call_settings(room: Room, actor: AnyUser, body: dict[str, Any]) -> dict[str, Any]:
    """Apply `{"access"?, "invite"?: name, "uninvite"?: name}`, all or nothing, each change in
    the audit log; the settings as they are now."""
    access = body.get("access")
    if access is not None and access not in CallAccess.values:
        raise ChatError(
            "invalid",
            _("access must be one of: %(choices)s."),
            params={"choices": ", ".join(CallAccess.values)},
        )
    with transaction.atomic():
        if access is not None:
            before = Room.objects.filter(pk=room.pk).values_list("call_access", flat=True).first()
            if access != before:
                Room.objects.filter(pk=room.pk).update(call_access=access)
                audit(room, actor, "call_access", access=access)
        for field, adding in (("invite", True), ("uninvite", False)):
            name = body.get(field)
            if name is None:
                continue
            if not isinstance(name, str) or not 0 < len(name.strip()) <= 150:
                raise ChatError("invalid", _("%(field)s must be a user name."), params={"field": field})
            name = name.strip()
            invitee = get_user_model().objects.filter(username=name).first()
            if invitee is None:
                raise ChatError(
                    "unknown_user",
                    _("There is no user named %(name)s."),
                    params={"name": repr(name)},
                    status=404,
                )
            if adding:
                if CallInvite.objects.filter(room_id=room.pk, user_id=invitee.pk).exists():
                    continue
                if CallInvite.objects.filter(room_id=room.pk).count() >= CALL_INVITES_MAX:
                    raise ChatError(
                        "too_many",
                        _("A call has at most %(call_invites_max)s invitations."),
                        params={"call_invites_max": CALL_INVITES_MAX},
                    )
                CallInvite.objects.create(room_id=room.pk, user_id=invitee.pk)
                audit(room, actor, "call_invite", target=invitee)
            elif CallInvite.objects.filter(room_id=room.pk, user_id=invitee.pk).delete()[0]:
                audit(room, actor, "call_uninvite", target=invitee)
    return call_settings(room)


# Invitations a room may hold: each is a row, and the settings answer lists them all.
CALL_INVITES_MAX = 200


def call_settings(room: Room) -> dict[str, Any]:
    access = Room.objects.filter(pk=room.pk).values_list("call_access", flat=True).first()
    invited = (
        CallInvite.objects.filter(room_id=room.pk)
        .order_by("user__username")
        .values_list("user__username", flat=True)[:CALL_INVITES_MAX]
    )
    return {"access": access, "invited": list(invited), "max_participants": CALL_MAX_PARTICIPANTS}
