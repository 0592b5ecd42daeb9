from __future__ import annotations

from django.contrib import admin

from .models import Room, RoomEvent


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "owner", "last_seq", "created_at"]
    search_fields = ["slug", "title"]
    readonly_fields = ["last_seq", "created_at"]


@admin.register(RoomEvent)
class RoomEventAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "kind", "user_name", "text", "created_at", "deleted_at"]
    list_filter = ["kind"]
    search_fields = ["text", "user_name"]
    list_select_related = ["room"]
    raw_id_fields = ["user"]
    readonly_fields = ["room", "seq", "kind", "user", "user_name", "created_at"]

    def has_add_permission(self, request: object) -> bool:
        # Events enter the log only through the domain functions, which allocate seq.
        return False
