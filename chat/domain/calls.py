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

from chat.errors import ChatError, login_required, private_room
from chat.models import CallAccess, CallInvite, Room
from chat.types import AnyUser

from .access import active_sanction, load_standing

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
            raise ChatError(code, "You may not join this room's call while sanctioned.", status=403)
    access = Room.objects.filter(pk=room.pk).values_list("call_access", flat=True).first()
    if standing.moderates or access == CallAccess.SIGNED_IN:
        return CallStanding(moderates=standing.moderates)
    if access == CallAccess.MEMBERS and standing.member:
        return CallStanding(moderates=False)
    if access == CallAccess.INVITED and CallInvite.objects.filter(room_id=room.pk, user_id=user.pk).exists():
        return CallStanding(moderates=False)
    who = "members" if access == CallAccess.MEMBERS else "invited accounts"
    raise ChatError("call_forbidden", f"Only the room's {who} and moderators may join its call.", status=403)


def _text(frame: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str | None:
    value = frame.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ChatError("invalid", f"{name} must be a string.")
    if len(value) > limit:
        raise ChatError("too_long", f"{name} is limited to {limit} characters.", status=413)
    return value


def clean_participant_id(value: Any, name: str = "to") -> str:
    if not isinstance(value, str) or not value or len(value) > PARTICIPANT_ID_MAX_CHARS:
        raise ChatError("invalid", f"{name} must be a participant id.")
    return value


def clean_signal(frame: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A `call.signal` frame: (the target's participant id, the payload relayed to it)."""
    to = clean_participant_id(frame.get("to"))
    kind = frame.get("kind")
    if kind not in SIGNAL_KINDS:
        raise ChatError("invalid", f"kind must be one of: {', '.join(sorted(SIGNAL_KINDS))}.")
    payload: dict[str, Any] = {"kind": kind}
    if kind == "candidate":
        payload["candidate"] = _text(frame, "candidate", CANDIDATE_MAX_CHARS, required=False) or ""
        mid = frame.get("sdp_mid")
        payload["sdp_mid"] = _text(frame, "sdp_mid", 64) if mid is not None else None
        index = frame.get("sdp_mline_index")
        if index is not None and (type(index) is not int or not 0 <= index < 256):
            raise ChatError("invalid", "sdp_mline_index must be an integer from 0 to 255.")
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
            raise ChatError("invalid", f"{name} must be true or false.")
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


def update_call_settings(room: Room, body: dict[str, Any]) -> dict[str, Any]:
    """Apply `{"access"?, "invite"?: name, "uninvite"?: name}`; the settings as they are now."""
    access = body.get("access")
    if access is not None:
        if access not in CallAccess.values:
            raise ChatError("invalid", f"access must be one of: {', '.join(CallAccess.values)}.")
        Room.objects.filter(pk=room.pk).update(call_access=access)
    for field, adding in (("invite", True), ("uninvite", False)):
        name = body.get(field)
        if name is None:
            continue
        if not isinstance(name, str) or not 0 < len(name) <= 150:
            raise ChatError("invalid", f"{field} must be a user name.")
        invitee = get_user_model().objects.filter(username=name).first()
        if invitee is None:
            raise ChatError("unknown_user", f"There is no user named {name!r}.", status=404)
        if adding:
            if CallInvite.objects.filter(room_id=room.pk).count() >= CALL_INVITES_MAX:
                raise ChatError("too_many", f"A call has at most {CALL_INVITES_MAX} invitations.")
            CallInvite.objects.get_or_create(room_id=room.pk, user_id=invitee.pk)
        else:
            CallInvite.objects.filter(room_id=room.pk, user_id=invitee.pk).delete()
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
