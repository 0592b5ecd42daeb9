"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: these modules touch models and settings.
from django.conf import settings  # noqa: E402

from chat.transports.routing import Router  # noqa: E402
from config.static_files import StaticFiles  # noqa: E402

# Django's handler types its scope as a dict and its messages as read-only mappings.
django_http_app = (
    StaticFiles(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app  # type: ignore[arg-type]
)

# SSE and long-poll first (no thread per waiting request), then everything else.
application = Router(django_http_app)  # type: ignore[arg-type]
