"""URL routes of the site (HTTP); WebSocket, SSE and long-poll are routed in config/asgi.py."""

from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from chat.guards.login import ThrottledAdminAuthenticationForm

# The admin's login form counts failed logins in the same buckets as the site's (chat/guards/login.py).
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    # Browsers ask for it on pages that name no icon (the admin's); the site's icon is an SVG.
    path(
        "favicon.ico",
        require_safe(RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
        name="favicon",
    ),
    path("", include("chat.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("danmaku.urls")),
]
