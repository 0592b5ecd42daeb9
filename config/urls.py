"""URL routes of the site (HTTP); WebSocket routes live in config/asgi.py."""

from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from chat import health, mod_views, views
from chat.security import ThrottledAdminAuthenticationForm

# The admin's login form counts failed logins in the same buckets as the site's (chat/security.py).
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for it on pages that name no icon (the admin's); the site's icon is an SVG.
    path(
        "favicon.ico",
        require_safe(RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
        name="favicon",
    ),
    path("accounts/signup/", views.signup, name="signup"),
    # Before Django's auth URLs, which name the same address `login` too.
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("rooms/new", views.create_room, name="create_room"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
    path("rooms/<slug:slug>/history", views.history, name="history"),
    # rooms/<slug>/events (SSE) and rooms/<slug>/poll (long-poll) are routed in config/asgi.py.
    path("rooms/<slug:slug>/messages", views.post_message_view, name="room_messages"),
    path("rooms/<slug:slug>/moderate", mod_views.moderate_page, name="moderate"),
    path("rooms/<slug:slug>/mod/delete", mod_views.delete, name="mod_delete"),
    path("rooms/<slug:slug>/mod/clear", mod_views.clear, name="mod_clear"),
    path("rooms/<slug:slug>/mod/timeout", mod_views.timeout, name="mod_timeout"),
    path("rooms/<slug:slug>/mod/ban", mod_views.ban, name="mod_ban"),
    path("rooms/<slug:slug>/mod/unban", mod_views.unban, name="mod_unban"),
    path("rooms/<slug:slug>/mod/settings", mod_views.settings_view, name="mod_settings"),
    path("rooms/<slug:slug>/mod/moderators", mod_views.moderators, name="mod_moderators"),
    path("rooms/<slug:slug>/mod/members", mod_views.members, name="mod_members"),
    path("rooms/<slug:slug>/mod/review", mod_views.review_queue, name="mod_review"),
    path("rooms/<slug:slug>/mod/review/<int:held_id>", mod_views.review_item, name="mod_review_item"),
    path("rooms/<slug:slug>/mod/audit", mod_views.audit_log, name="mod_audit"),
    path("rooms/<slug:slug>/mod/state", mod_views.state, name="mod_state"),
    path("rooms/<slug:slug>/mod/stats", mod_views.stats, name="mod_stats"),
    path("", include("danmaku.urls")),
]
