from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from django.urls import re_path

from . import longpoll, sse
from .consumers import RoomConsumer
from .models import ROOM_SLUG_PATTERN

websocket_urlpatterns = [
    re_path(rf"^ws/rooms/(?P<slug>{ROOM_SLUG_PATTERN})/$", RoomConsumer.as_asgi()),
]

# Any slug reaches the endpoint, which answers an unknown one with a JSON 404.
http_urlpatterns = [
    re_path(r"^rooms/(?P<slug>[^/]+)/events$", AuthMiddlewareStack(sse.endpoint)),
    re_path(r"^rooms/(?P<slug>[^/]+)/poll$", AuthMiddlewareStack(longpoll.endpoint)),
]
