"""Webhook routes: the room's endpoints and delivery log."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("rooms/<slug:slug>/webhooks", views.webhooks_page, name="mod_webhooks"),
]
