"""URL routes of the site (HTTP); WebSocket routes live in config/asgi.py."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from chat import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("rooms/new", views.create_room, name="create_room"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
    path("rooms/<slug:slug>/history", views.history, name="history"),
    # rooms/<slug>/events (SSE) and rooms/<slug>/poll (long-poll) are routed in config/asgi.py.
    path("rooms/<slug:slug>/messages", views.post_message_view, name="room_messages"),
    path("rooms/<slug:slug>/mod/delete", views.mod_delete, name="mod_delete"),
    path("", include("danmaku.urls")),
]
