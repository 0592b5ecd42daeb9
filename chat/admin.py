from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, AuditEntry, BotAccount, HeldMessage, Room, RoomEvent, RoomRole, Sanction
from .realtime.grip import end_token_streams_after_commit
from .realtime.notices import TOKENS_ENDED, announce_after_commit


class RoomRoleInline(admin.TabularInline):
    model = RoomRole
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "title",
        "owner",
        "private",
        "posting",
        "slow_mode_seconds",
        "last_seq",
        "created_at",
    ]
    list_filter = ["private", "posting", "review"]
    search_fields = ["slug", "title"]
    readonly_fields = ["last_seq", "created_at"]
    raw_id_fields = ["owner"]
    inlines = [RoomRoleInline]


@admin.register(RoomEvent)
class RoomEventAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "kind", "user_name", "text", "created_at", "deleted_at"]
    list_filter = ["kind"]
    search_fields = ["text", "user_name"]
    list_select_related = ["room"]
    raw_id_fields = ["user"]
    readonly_fields = ["room", "seq", "kind", "user", "user_name", "created_at"]

    def has_add_permission(self, request: Any) -> bool:
        # Events enter the log only through the domain functions, which allocate seq.
        return False


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ["room", "user", "kind", "until", "reason", "created_by", "created_at", "lifted_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "room__slug", "reason"]
    raw_id_fields = ["user", "created_by", "room"]


@admin.register(HeldMessage)
class HeldMessageAdmin(admin.ModelAdmin):
    list_display = ["room", "user", "kind", "text", "reason", "decision", "created_at", "decided_by"]
    list_filter = ["decision", "reason", "kind"]
    search_fields = ["text", "user__username"]
    raw_id_fields = ["user", "decided_by", "room", "event"]
    readonly_fields = ["decision", "decided_by", "decided_at", "event"]

    def has_add_permission(self, request: Any) -> bool:
        return False  # messages are held by the write path; decide them on the moderator's page


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "room", "actor_name", "action", "target_name", "target_event", "reason"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target_name", "reason", "room__slug"]
    list_select_related = ["room"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # the audit log is append-only

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(BotAccount)
class BotAccountAdmin(admin.ModelAdmin):
    """Staff mark an account as a bot here (or with `createtoken --bot`)."""

    list_display = ["user", "created_at"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owner (the account page, `createtoken`): here they are seen and revoked."""

    list_display = [
        "name",
        "user",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix", "digest", "scopes", "rooms", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: Any, queryset: Any) -> None:
        token_ids = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        if queryset.filter(pk__in=token_ids).update(revoked_at=timezone.now()):
            announce_after_commit(TOKENS_ENDED)  # their connections end now
            end_token_streams_after_commit(token_ids)  # and those Pushpin holds

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.revoked_at is not None or obj.expires_at is not None:
            announce_after_commit(TOKENS_ENDED)  # the watch looks at once (transports/token_watch.py)
            if obj.revoked_at is not None:
                end_token_streams_after_commit([obj.pk])  # and Pushpin's streams end
