"""Personal API tokens: made (shown once, stored as a digest), checked, limited by scope and
room, revoked. Every edge that accepts `Authorization: Bearer` calls `authenticate`, then
`require_scope` for what the request does; the token's user then goes through the same gates as
a signed-in session (access, sanctions, rate limits, slow mode).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError, invalid_token, token_forbidden
from chat.models import ApiToken, Room, TokenScope

# Tokens start with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "cdt_"
# 32 random bytes: guessing is hopeless, so a plain SHA-256 digest is safe to store (a slow
# password hash protects low-entropy secrets, which these are not).
TOKEN_BYTES = 32
# The longest header value worth hashing: a token is 47 characters.
TOKEN_MAX_CHARS = 100
NAME_MAX_CHARS = 100
# Resources a user can make are bounded: live tokens per account, rooms per token.
TOKENS_PER_USER_MAX = 50
ROOMS_PER_TOKEN_MAX = 20
EXPIRY_DAYS_MAX = 3650
# `last_used_at` is written at most this often per token: a bot posting twice a second must not
# turn every post into two writes.
LAST_USE_RESOLUTION = timedelta(minutes=1)

SCOPES = tuple(TokenScope.values)


@dataclass(frozen=True)
class NewToken:
    """A token just made: `raw` is shown to its owner once and never stored."""

    token: ApiToken
    raw: str


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_scopes(value: object) -> list[str]:
    """`"post,read"` or `["post", "read"]` -> the scopes, in the canonical order; ChatError
    `invalid` (field `scopes`) for an unknown one or none."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ChatError("invalid", _("scopes must be a list of read, post, moderate."), field="scopes")
    wanted = {item.strip() for item in items if item.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ChatError(
            "invalid",
            _("Unknown scope %(scope)s: use read, post, moderate."),
            params={"scope": repr(unknown[0])},
            field="scopes",
        )
    if not wanted:
        raise ChatError("invalid", _("Choose at least one scope."), field="scopes")
    return [scope for scope in SCOPES if scope in wanted]


def create_token(
    user: AbstractBaseUser,
    name: str,
    scopes: object,
    *,
    rooms: list[Room] | None = None,
    expires_at: datetime | None = None,
) -> NewToken:
    """A new token for `user`; ChatError `invalid` (with `field`) for a bad name, scopes,
    rooms or expiry, or past TOKENS_PER_USER_MAX live tokens."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_CHARS:
        raise ChatError(
            "invalid",
            _("The name must be 1 to %(name_max_chars)s characters."),
            params={"name_max_chars": NAME_MAX_CHARS},
            field="name",
        )
    clean_scopes = parse_scopes(scopes)
    rooms = list(dict.fromkeys(rooms or []))
    if len(rooms) > ROOMS_PER_TOKEN_MAX:
        raise ChatError(
            "invalid",
            _("A token is for at most %(rooms_per_token_max)s rooms."),
            params={"rooms_per_token_max": ROOMS_PER_TOKEN_MAX},
            field="rooms",
        )
    now = timezone.now()
    if expires_at is not None and not now < expires_at <= now + timedelta(days=EXPIRY_DAYS_MAX):
        raise ChatError(
            "invalid",
            _("The expiry must be in the next %(expiry_days_max)s days."),
            params={"expiry_days_max": EXPIRY_DAYS_MAX},
            field="expires_at",
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        if live_tokens(user).count() >= TOKENS_PER_USER_MAX:
            raise ChatError(
                "invalid",
                _("An account has at most %(tokens_per_user_max)s tokens: revoke one first."),
                params={"tokens_per_user_max": TOKENS_PER_USER_MAX},
            )
        token = ApiToken.objects.create(
            user_id=user.pk,
            name=name,
            prefix=raw[: len(TOKEN_PREFIX) + 4],
            digest=digest_of(raw),
            scopes=clean_scopes,
            expires_at=expires_at,
        )
        token.rooms.set(rooms)
    return NewToken(token, raw)


def live_tokens(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """The user's tokens that are neither revoked nor expired."""
    now = timezone.now()
    return (
        ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True)
        .exclude(expires_at__lte=now)
        .order_by("-created_at", "-id")
    )


def revoke_token(user: AbstractBaseUser, token_id: int) -> bool:
    """Revoke one of `user`'s tokens; False if there is no such live token."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user_id=user.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; None without one (another scheme
    or no header). A Bearer header with nothing usable after it is `invalid_token`."""
    if not authorization:
        return None
    scheme, _space, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value:
        raise invalid_token(_("The Authorization header names no token."))
    return value


def authenticate(raw: str) -> ApiToken:
    """The live token `raw` names, with its `user` and its rooms' ids (`room_ids`) loaded;
    ChatError 401 `invalid_token`, `token_expired` or `token_revoked` otherwise. Marks its use."""
    if not raw or len(raw) > TOKEN_MAX_CHARS or not raw.isascii():
        raise invalid_token()
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(raw)).first()
    return _live(token)


def _live(token: ApiToken | None) -> ApiToken:
    if token is None or not token.user.is_active:
        raise invalid_token()
    now = timezone.now()
    if token.revoked_at is not None:
        raise invalid_token(_("This API token was revoked."), "token_revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise invalid_token(_("This API token has expired."), "token_expired")
    token.room_ids = frozenset(token.rooms.values_list("pk", flat=True))  # type: ignore[attr-defined]
    token.checked_at = time.monotonic()  # type: ignore[attr-defined]
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def require_scope(token: ApiToken | None, scope: str, room: Room | None = None) -> None:
    """Refuse (403 `token_scope` / `token_room` / `token_expired` 401) a token used for what it
    does not allow; nothing to check without a token (a session)."""
    if token is None:
        return
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise invalid_token(_("This API token has expired."), "token_expired")
    if scope not in token.scopes:
        raise token_forbidden(
            "token_scope",
            _("This API token lacks the %(scope)s scope."),
            params={"scope": repr(scope)},
            scope=scope,
        )
    room_ids = getattr(token, "room_ids", None)
    if room_ids is None:
        room_ids = token.room_ids = frozenset(token.rooms.values_list("pk", flat=True))  # type: ignore[attr-defined]
    if room is not None and room_ids and room.pk not in room_ids:
        raise token_forbidden("token_room", _("This API token is not for this room."))


# A WebSocket lives for hours: the token it opened with is looked at again before a write when
# this long has passed, so a revoked token's connection stops posting within it.
RECHECK_SECONDS = 30.0


def needs_recheck(token: ApiToken) -> bool:
    checked = getattr(token, "checked_at", None)
    return checked is None or time.monotonic() - checked >= RECHECK_SECONDS


def recheck(token: ApiToken) -> None:
    """ChatError 401 `token_revoked` (or `invalid_token` for a deleted token or a disabled
    account) if the token can no longer be used; remembers when it was checked."""
    row = ApiToken.objects.filter(pk=token.pk).values_list("revoked_at", "user__is_active").first()
    if row is None or not row[1]:
        raise invalid_token()
    if row[0] is not None:
        raise invalid_token(_("This API token was revoked."), "token_revoked")
    token.checked_at = time.monotonic()  # type: ignore[attr-defined]


def ended_tokens(token_ids: list[int]) -> dict[int, ChatError]:
    """Of `token_ids`, those that can no longer be used, each with the refusal it would get now
    (401 `token_revoked`, `token_expired`, or `invalid_token` for a deleted token or a disabled
    account): one query, for the held connections opened with them (chat/transports/token_watch.py)."""
    now = timezone.now()
    rows = {
        pk: (revoked_at, expires_at, active)
        for pk, revoked_at, expires_at, active in ApiToken.objects.filter(pk__in=token_ids).values_list(
            "pk", "revoked_at", "expires_at", "user__is_active"
        )
    }
    ended: dict[int, ChatError] = {}
    for token_id in token_ids:
        row = rows.get(token_id)
        if row is None or not row[2]:
            ended[token_id] = invalid_token()
        elif row[0] is not None:
            ended[token_id] = invalid_token(_("This API token was revoked."), "token_revoked")
        elif row[1] is not None and row[1] <= now:
            ended[token_id] = invalid_token(_("This API token has expired."), "token_expired")
    return ended


# Tickets: what a browser page on another site puts in a URL (EventSource sends no headers; a
# WebSocket from a browser cannot either). Made with a token by the site's backend, for one
# room, with some of the token's scopes; signed, not stored; good for opening streams during
# TICKET_SECONDS. A stream opened with one stays open (until its token is revoked or expires);
# a new connection needs a new ticket.
TICKET_SECONDS = 120
TICKET_SCOPES = (TokenScope.READ, TokenScope.POST)
TICKET_MAX_CHARS = 300
_TICKET_SALT = "chat.domain.tokens.ticket"


def issue_ticket(token: ApiToken, room: Room, scopes: object = None) -> str:
    """A ticket for `room` with `scopes` (default read; read and post at most), which the token
    must have; ChatError `invalid`, `token_scope` or `token_room` otherwise."""
    wanted = [TokenScope.READ] if scopes is None else parse_scopes(scopes)
    if any(scope not in TICKET_SCOPES for scope in wanted):
        raise ChatError("invalid", _("A ticket carries read and post at most."), field="scopes")
    for scope in wanted:
        require_scope(token, scope, room)
    payload = {"t": token.pk, "r": room.pk, "s": [str(scope) for scope in wanted]}
    return signing.TimestampSigner(salt=_TICKET_SALT).sign_object(payload)


def redeem_ticket(raw: str) -> ApiToken:
    """The token behind a ticket, narrowed to the ticket's room and scopes; ChatError 401
    `invalid_ticket` for a forged or expired ticket, and the token's own refusals (revoked...)."""
    if not raw or len(raw) > TICKET_MAX_CHARS:
        raise invalid_token(_("This ticket is not valid."), "invalid_ticket")
    try:
        payload = signing.TimestampSigner(salt=_TICKET_SALT).unsign_object(raw, max_age=TICKET_SECONDS)
    except signing.SignatureExpired:
        raise invalid_token(_("This ticket has expired: ask for a new one."), "invalid_ticket") from None
    except (signing.BadSignature, ValueError):
        raise invalid_token(_("This ticket is not valid."), "invalid_ticket") from None
    token = _live(ApiToken.objects.select_related("user").filter(pk=payload.get("t")).first())
    token.scopes = [scope for scope in payload.get("s", []) if scope in token.scopes]
    token.room_ids = frozenset({payload.get("r")})  # type: ignore[attr-defined]
    return token
