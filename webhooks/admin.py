from __future__ import annotations

from django.contrib import admin
from django.db import models

from .models import Attempt, Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["room", "url", "enabled", "disabled_reason", "failure_streak", "cursor", "created_at"]
    list_filter = ["enabled", "disabled_reason"]
    search_fields = ["room__slug", "url"]
    exclude = ["secret", "previous_secret"]  # shown once, to the owner; never in the admin
    readonly_fields = ["cursor", "failure_streak", "failing_since", "disabled_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "status", "error", "latency_ms", "excerpt"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["message_id", "endpoint", "seq", "kind", "state", "attempts", "next_attempt_at"]
    list_filter = ["state", "kind"]
    search_fields = ["message_id", "endpoint__url"]
    readonly_fields = ["endpoint", "seq", "kind", "message_id", "payload", "attempts", "last_status"]
    inlines = [AttemptInline]
