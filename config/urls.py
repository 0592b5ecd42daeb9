"""URL routes of the site (HTTP); WebSocket, SSE and long-poll are routed in config/asgi.py."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from chat.guards.login import ThrottledAdminAuthenticationForm, answer_throttled_form

# The admin's login form counts failed logins in the same buckets as the site's (chat/guards/login.py).
admin.site.login_form = ThrottledAdminAuthenticationForm


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login view, answering 429 with Retry-After when throttled, as the site's does."""
    return answer_throttled_form(admin.site.login(request))


urlpatterns = [
    # Browsers ask for it on pages that name no icon (the admin's); the site's icon is an SVG.
    path(
        "favicon.ico",
        require_safe(RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
        name="favicon",
    ),
    path("", include("chat.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/login/", admin_login),  # ahead of the admin's own route to the same view
    path("admin/", admin.site.urls),
    path("", include("danmaku.urls")),
    path("", include("webhooks.urls")),
]

# Styled error pages with the site's header (JSON with a stable code for API clients).
handler400 = "chat.web.errors.bad_request"
handler403 = "chat.web.errors.permission_denied"
handler404 = "chat.web.errors.page_not_found"
handler500 = "chat.web.errors.server_error"
