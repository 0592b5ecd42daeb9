from __future__ import annotations

from django.contrib import admin

from .models import RoomVideo, ViewerSettings


@admin.register(RoomVideo)
class RoomVideoAdmin(admin.ModelAdmin):
    list_display = ["room", "url", "title", "duration_ms", "live", "updated_at"]
    search_fields = ["room__slug", "url", "title"]
    readonly_fields = ["since_seq"]


@admin.register(ViewerSettings)
class ViewerSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "updated_at"]
    raw_id_fields = ["user"]
