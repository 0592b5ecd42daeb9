"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: these modules touch models and settings.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import re_path  # noqa: E402

from chat.transports.routing import WebSocketRoute, http_urlpatterns  # noqa: E402


class StaticFiles(ASGIStaticFilesHandler):
    """Static files served by daphne itself (SERVE_STATIC=1), which Django's middleware never
    sees: they get SecurityMiddleware's `X-Content-Type-Options: nosniff` here (nginx's
    example sets it on the files it serves)."""

    async def get_response_async(self, request: Any) -> Any:
        response = await super().get_response_async(request)
        response["X-Content-Type-Options"] = "nosniff"
        return response


django_http_app = StaticFiles(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

application = ProtocolTypeRouter(
    {
        # SSE and long-poll first (no thread per waiting request), then everything else.
        "http": URLRouter([*http_urlpatterns, re_path(r"", django_http_app)]),  # type: ignore[arg-type]
        "websocket": WebSocketRoute(),
    }
)
