"""The chat app's HTTP routes. SSE (`rooms/<slug>/events`) and long-poll (`rooms/<slug>/poll`)
are routed ahead of Django (config/asgi.py, chat/transports/routing.py)."""

from __future__ import annotations

from django.urls import include, path

from chat.web import account, api, calls, health, language, moderation, pages

moderation_urls = [
    path("delete", moderation.delete, name="mod_delete"),
    path("clear", moderation.clear, name="mod_clear"),
    path("system", moderation.system, name="mod_system"),
    path("timeout", moderation.timeout, name="mod_timeout"),
    path("ban", moderation.ban, name="mod_ban"),
    path("unban", moderation.unban, name="mod_unban"),
    path("pin", moderation.pin, name="mod_pin"),
    path("unpin", moderation.unpin, name="mod_unpin"),
    path("dry-run", moderation.dry_run, name="mod_dry_run"),
    path("hide", moderation.hide, name="mod_hide"),
    path("unhide", moderation.unhide, name="mod_unhide"),
    path("settings", moderation.settings_view, name="mod_settings"),
    path("moderators", moderation.moderators, name="mod_moderators"),
    path("members", moderation.members, name="mod_members"),
    path("review", moderation.review_queue, name="mod_review"),
    path("review/<int:held_id>", moderation.review_item, name="mod_review_item"),
    path("reports/<int:event_id>", moderation.report_item, name="mod_report_item"),
    path("audit", moderation.audit_log, name="mod_audit"),
    path("state", moderation.state, name="mod_state"),
    path("stats", moderation.stats, name="mod_stats"),
]

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("i18n/language", language.set_language, name="set_language"),
    path("i18n/catalog.json", language.catalog, name="i18n_catalog"),
    path("accounts/signup/", pages.signup, name="signup"),
    # Before Django's auth URLs, which name the same address `login` too.
    path("accounts/login/", pages.LoginView.as_view(), name="login"),
    path("accounts/tokens/", account.tokens_page, name="tokens"),
    path("accounts/tokens/<int:token_id>/revoke", account.revoke_token_view, name="revoke_token"),
    path("rooms/new", pages.create_room, name="create_room"),
    path("rooms/<slug:slug>/", pages.room_page, name="room"),
    path("rooms/<slug:slug>/history", api.history, name="history"),
    path("rooms/<slug:slug>/messages", api.post_message_view, name="room_messages"),
    path("rooms/<slug:slug>/report", api.report_view, name="room_report"),
    path("rooms/<slug:slug>/state", api.room_state_view, name="room_state"),
    path("rooms/<slug:slug>/tickets", api.ticket_view, name="room_tickets"),
    path("rooms/<slug:slug>/call", calls.call_page, name="call"),
    path("rooms/<slug:slug>/call/ice", calls.ice_view, name="call_ice"),
    path("rooms/<slug:slug>/call/settings", calls.settings_view, name="call_settings"),
    path("rooms/<slug:slug>/moderate", moderation.moderate_page, name="moderate"),
    path("rooms/<slug:slug>/mod/", include(moderation_urls)),
]
