"""Rooms and the per-room event log."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ROOM_SLUG_PATTERN = r"[a-z0-9-]{1,50}"
_ROOM_SLUG = re.compile(ROOM_SLUG_PATTERN)


def is_room_slug(text: str) -> bool:
    """Whether `text` can be a room's slug: paths that route any slug check this before a query
    (PostgreSQL refuses text with NUL in it)."""
    return _ROOM_SLUG.fullmatch(text) is not None


validate_room_slug = RegexValidator(
    rf"^{ROOM_SLUG_PATTERN}\Z",
    _("Use 1 to 50 lowercase letters, digits or hyphens."),
    code="invalid_slug",
)


def new_overlay_key() -> str:
    return secrets.token_urlsafe(18)


class Posting(models.TextChoices):
    OPEN = "open", _("Signed-in users")
    MODERATORS = "moderators", _("Moderators only (announcements)")


class BlockedAction(models.TextChoices):
    REFUSE = "refuse", _("Refuse the message")
    HOLD = "hold", _("Hold it for review")


class RemovedDisplay(models.TextChoices):
    """What a deleted message leaves in the room's list."""

    PLACEHOLDER = "placeholder", _("A “removed by a moderator” line")
    VANISH = "vanish", _("Nothing: it vanishes")


class Review(models.TextChoices):
    OFF = "off", _("Off")
    ALL = "all", _("Every message")
    NEW_ACCOUNTS = "new_accounts", _("Messages from new accounts")


class CallAccess(models.TextChoices):
    """Who may join the room's call (chat/domain/calls.py); moderators always may."""

    SIGNED_IN = "signed_in", _("Everyone signed in")
    MEMBERS = "members", _("The room's members")
    INVITED = "invited", _("Moderators and the accounts the owner invites")


def new_log_epoch() -> str:
    """A room log's epoch: 8 random hex digits, never reused in practice."""
    return secrets.token_hex(4)


class Room(models.Model):
    slug = models.CharField(
        max_length=50, unique=True, validators=[validate_room_slug], verbose_name=_("address")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_rooms",
        verbose_name=_("owner"),
    )
    # Moderation settings (chat/domain/); changed through the moderation API.
    private = models.BooleanField(
        default=False, help_text=_("only members read and write"), verbose_name=_("private")
    )
    posting = models.CharField(
        max_length=16, choices=Posting.choices, default=Posting.OPEN, verbose_name=_("posting")
    )
    slow_mode_seconds = models.PositiveIntegerField(
        default=0, help_text=_("0: off"), verbose_name=_("slow mode seconds")
    )
    blocked_words = models.JSONField(
        default=list, blank=True, help_text=_('words, or "/regex/"'), verbose_name=_("blocked words")
    )
    blocked_action = models.CharField(
        max_length=8,
        choices=BlockedAction.choices,
        default=BlockedAction.REFUSE,
        verbose_name=_("blocked action"),
    )
    review = models.CharField(
        max_length=16, choices=Review.choices, default=Review.OFF, verbose_name=_("review")
    )
    review_account_age_hours = models.PositiveIntegerField(
        default=24, verbose_name=_("review account age hours")
    )
    # Unique chat: a text the same as one anyone posted here in the last `unique_chat_seconds`
    # (case and spaces aside) is refused; moderators exempt.
    unique_chat = models.BooleanField(default=False, verbose_name=_("unique chat"))
    unique_chat_seconds = models.PositiveIntegerField(default=30, verbose_name=_("unique chat seconds"))
    # Chat delay: a non-moderator's message enters the log this many seconds after it is posted,
    # unless a moderator removes it first (chat/domain/moderation/delay.py). 0: off.
    chat_delay_seconds = models.PositiveIntegerField(
        default=0, help_text=_("0: off"), verbose_name=_("chat delay seconds")
    )
    removed_display = models.CharField(
        max_length=12,
        choices=RemovedDisplay.choices,
        default=RemovedDisplay.PLACEHOLDER,
        verbose_name=_("removed display"),
    )
    # The seq of the room's latest `clear` (0: never cleared): history leaves out what it
    # removed, and shows what a moderator deleted since as placeholders (`removed_display`).
    cleared_seq = models.PositiveBigIntegerField(
        default=0, editable=False, verbose_name=_("cleared up to sequence number")
    )
    # The pinned message (one at a time) and when its pin ends (null: until unpinned); set and
    # cleared by the moderation actions' own statements (chat/domain/moderation/pins.py).
    pinned_event = models.ForeignKey(
        "RoomEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("pinned event"),
    )
    pinned_until = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("pinned until"))
    # When set, the overlay page needs ?key=<overlay_key>, and the key also opens a private
    # room's streams to an overlay (OBS has no session). The owner rotates or clears it.
    overlay_key = models.CharField(max_length=64, blank=True, verbose_name=_("overlay key"))
    # The origin (https://video.example) of the owner's page that embeds this room's player:
    # it may read the room cross-origin, and post with a token, as CORS_ALLOWED_ORIGINS may.
    embed_origin = models.CharField(
        max_length=200, blank=True, db_index=True, verbose_name=_("embedding origin")
    )
    # Who may join the room's voice/video call (docs/PROTOCOL.md "Calls").
    call_access = models.CharField(
        max_length=16,
        choices=CallAccess.choices,
        default=CallAccess.SIGNED_IN,
        verbose_name=_("who may join the call"),
    )
    # The seq of the newest event; bumped under a row lock in the inserting transaction.
    last_seq = models.PositiveBigIntegerField(
        default=0, editable=False, verbose_name=_("last sequence number")
    )
    # Set while a bulk append (an import on SQLite) copies events above last_seq in several
    # transactions: they are not in the log until last_seq moves past them, and other appends
    # wait. A lease, renewed by each of the copy's transactions, so a copier that died frees
    # the room (chat/domain/eventlog.py, LogReservation).
    log_reserved_until = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("log reserved until")
    )
    # Which log the seqs count in: a client's cursor is valid only with the epoch it came with.
    # A new one when the log went back (a restored database, docs/PROTOCOL.md "Log epochs").
    log_epoch = models.CharField(
        max_length=16, default=new_log_epoch, editable=False, verbose_name=_("log epoch")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Never write `last_seq` (nor `cleared_seq`) from a model instance: only the event log's
        statements change them. A room loaded earlier (a form, the admin, a connection) holds a stale value,
        and saving it would rewind the counter and make the next seq a duplicate."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in _LOG_COUNTERS
            ]
        elif kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = [name for name in kwargs["update_fields"] if name not in _LOG_COUNTERS]
        super().save(*args, **kwargs)


# Written only by the event log's and moderation's own statements (a stale instance would
# rewind them).
_LOG_COUNTERS = frozenset({"last_seq", "cleared_seq", "pinned_event", "pinned_until", "log_reserved_until"})


class EventKind(models.TextChoices):
    MESSAGE = "message", _("Chat message")
    DANMAKU = "danmaku", _("Danmaku comment")
    DELETE = "delete", _("Message deleted")
    CLEAR = "clear", _("Room cleared")
    BAN = "ban", _("User banned")
    UNBAN = "unban", _("User unbanned")
    SETTINGS = "settings", _("Settings changed")
    SYSTEM = "system", _("System notice")
    REVIEW = (
        "review",
        _("Held message rejected"),
    )  # a held message was rejected: names its held id, never its author or text
    PIN = "pin", _("Pin changed")  # the pinned message changed (`pinned`: the message, or null)


# Kinds that are content a reader scrolls back through (the rest change other events or state).
CONTENT_KINDS = (EventKind.MESSAGE, EventKind.DANMAKU, EventKind.SYSTEM)


class RoomEvent(models.Model):
    """One visible change in a room; `seq` orders a room's events 1, 2, 3, ... with no gaps."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events", verbose_name=_("room"))
    seq = models.PositiveBigIntegerField(verbose_name=_("sequence number"))
    kind = models.CharField(max_length=16, choices=EventKind.choices, verbose_name=_("kind"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="room_events",
        verbose_name=_("user"),
    )
    # The author's name when the event was written, so serialising never needs a join.
    user_name = models.CharField(max_length=150, blank=True, verbose_name=_("user name"))
    text = models.TextField(blank=True, verbose_name=_("text"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))  # kind-specific fields
    # Danmaku on a recorded video: the position in the video it belongs to (null on live).
    # A column, not a field of `data`, so the time-window query is an index range scan.
    video_ms = models.BigIntegerField(null=True, blank=True, verbose_name=_("video time (ms)"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))
    # True when the author was a bot account when the event was written (`user.bot` on the
    # wire), null otherwise: nullable, so adding it never rewrites the log's table.
    user_bot = models.BooleanField(null=True, blank=True, editable=False, verbose_name=_("user is a bot"))

    class Meta:
        verbose_name = _("room event")
        verbose_name_plural = _("room events")
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="room_event_unique_seq"),
        ]
        indexes = [
            models.Index(
                # Visible comments only: the rows the time window and the density counts read
                # (danmaku/timeline.py), and no others to step over.
                fields=["room", "video_ms", "seq"],
                name="room_event_video_time",
                condition=models.Q(kind="danmaku", video_ms__isnull=False, deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq} {self.kind}"


class RoomRole(models.Model):
    """A user's role in a room beyond a reader's: a member of a private room, or a moderator."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        MODERATOR = "moderator", _("Moderator")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="roles", verbose_name=_("room"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_roles", verbose_name=_("user")
    )
    role = models.CharField(max_length=16, choices=Role.choices, verbose_name=_("role"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("room role")
        verbose_name_plural = _("room roles")
        constraints = [models.UniqueConstraint(fields=["room", "user", "role"], name="room_role_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.room_id}"


class CallInvite(models.Model):
    """An account the owner invites to the room's call (when `call_access` is `invited`).
    Not a role: an invited guest of a private room's call does not read the room for it."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="call_invites", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("call invite")
        verbose_name_plural = _("call invites")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="call_invite_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} invited to the call of {self.room_id}"


class Sanction(models.Model):
    """A timeout (until a moment) or a ban (until lifted) of a user in a room."""

    class Kind(models.TextChoices):
        TIMEOUT = "timeout", _("Timeout")
        BAN = "ban", _("Ban")
        # YouTube's hide: the user's new messages are kept like held ones, shown to them and
        # listed for moderators, never published. Silent: no room event says so.
        HIDE = "hide", _("Hide")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sanctions", verbose_name=_("room"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanctions", verbose_name=_("user")
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    until = models.DateTimeField(
        null=True, blank=True, help_text=_("empty for a ban"), verbose_name=_("until")
    )
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        indexes = [models.Index(fields=["room", "user", "lifted_at"], name="sanction_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.user_id} in {self.room_id}"


class HeldMessage(models.Model):
    """A message or comment waiting for a moderator (blocked word with the hold action, or review)."""

    class Reason(models.TextChoices):
        BLOCKED_WORD = "blocked_word", _("Blocked word")
        REVIEW_ALL = "review_all", _("Review all")
        NEW_ACCOUNT = "new_account", _("New account")
        HIDDEN_USER = "hidden_user", _("Hidden user")
        DELAYED = "delayed", _("Delayed")

    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="held", verbose_name=_("room"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices, verbose_name=_("kind"))
    text = models.TextField(verbose_name=_("text"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    video_ms = models.BigIntegerField(null=True, blank=True, verbose_name=_("video time (ms)"))
    reason = models.CharField(max_length=16, choices=Reason.choices, verbose_name=_("reason"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    decision = models.CharField(
        max_length=8, choices=Decision.choices, default=Decision.PENDING, verbose_name=_("decision")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    event = models.ForeignKey(
        RoomEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("event")
    )
    # A delayed message (chat delay): when it is published unless a moderator removed it.
    release_at = models.DateTimeField(null=True, blank=True, verbose_name=_("release at"))

    class Meta:
        verbose_name = _("held message")
        verbose_name_plural = _("held messages")
        indexes = [
            models.Index(fields=["room", "decision", "id"], name="held_queue"),
            # The release loop's one query: pending delayed messages by release time. Partial,
            # so it stays as small as the messages waiting right now.
            models.Index(
                fields=["release_at"],
                name="held_release_due",
                condition=models.Q(decision="pending", release_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"held {self.kind} {self.pk} in {self.room_id}"


class Report(models.Model):
    """A viewer's report of a message or comment, with their reason: one per reporter and
    message (a second report by the same person updates the first), listed for moderators with
    the count of people who reported it until a moderator deals with it."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="reports", verbose_name=_("room"))
    event = models.ForeignKey(
        RoomEvent, on_delete=models.CASCADE, related_name="reports", verbose_name=_("event")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("reporter")
    )
    reason = models.CharField(max_length=200, verbose_name=_("reason"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [models.UniqueConstraint(fields=["event", "reporter"], name="report_once_per_reporter")]
        indexes = [models.Index(fields=["room", "resolved_at", "event"], name="report_queue")]

    def __str__(self) -> str:
        return f"report of {self.event_id} by {self.reporter_id}"


class AuditEntry(models.Model):
    """Who did what to whom in a room, and why: every moderation action writes one."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="audit", verbose_name=_("room"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(max_length=150, blank=True, verbose_name=_("actor name"))
    action = models.CharField(max_length=32, verbose_name=_("action"))
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("target user"),
    )
    target_name = models.CharField(max_length=150, blank=True, verbose_name=_("target name"))
    target_event = models.BigIntegerField(null=True, blank=True, verbose_name=_("target event"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason"))
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["room", "-id"], name="audit_by_room")]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name or '-'} in {self.room_id}"


class NameSkeleton(models.Model):
    """The case-insensitive TR39 skeleton of a user's name (chat/domain/names.py), indexed to
    find names that look alike. Not unique: names that looked alike may predate the check."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="name_skeleton",
        verbose_name=_("user"),
    )
    skeleton = models.TextField(db_index=True, verbose_name=_("skeleton"))

    class Meta:
        verbose_name = _("name skeleton")
        verbose_name_plural = _("name skeletons")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.skeleton}"


class AccountSettings(models.Model):
    """What a user chose for the site itself: the interface's language (chat/web/language.py);
    empty: the browser's."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="account_settings",
        verbose_name=_("user"),
    )
    language = models.CharField(max_length=16, blank=True, default="", verbose_name=_("language"))

    class Meta:
        verbose_name = _("account settings")
        verbose_name_plural = _("account settings")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or '-'}"


class TokenScope(models.TextChoices):
    READ = "read", _("Read rooms")
    POST = "post", _("Post messages and comments")
    MODERATE = "moderate", _("Moderate")


class ApiToken(models.Model):
    """A personal API token (`Authorization: Bearer`): only its SHA-256 digest is stored; the
    token itself is shown once, when it is made (chat/domain/tokens.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    # The token's first characters, to tell tokens apart on the account page; never enough to use.
    prefix = models.CharField(max_length=16, verbose_name=_("prefix"))
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    scopes = models.JSONField(default=list, help_text=_("read, post, moderate"), verbose_name=_("scopes"))
    rooms = models.ManyToManyField(
        Room, blank=True, related_name="+", help_text=_("empty: every room"), verbose_name=_("rooms")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("empty: never"), verbose_name=_("expires at")
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...) of {self.user_id}"


class BotAccount(models.Model):
    """An account that staff marked as a bot: its events carry `user.bot: true`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="bot_account",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("bot account")
        verbose_name_plural = _("bot accounts")

    def __str__(self) -> str:
        return f"bot {self.user_id}"
