from typing import Any

from django.apps import AppConfig
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished
from django.db import connections
from django.utils.translation import gettext_lazy as _


def close_request_connections(sender: Any, **kwargs: Any) -> None:
    """Under ASGI a request's sync code runs in a thread of its own (Django's
    ThreadSensitiveContext) that ends with the request, and this signal is sent in that thread.
    A connection it kept for reuse (CONN_MAX_AGE) would never be reused: it would only wait for
    the garbage collector to close its files (measured by the soak in bench/: 47 extra open
    files after three minutes). Connections of the consumers' long-lived database thread are
    not touched: no request ends there."""
    if isinstance(sender, type) and issubclass(sender, ASGIHandler):
        for connection in connections.all(initialized_only=True):
            connection.close()


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from chat.domain import delivery
        from chat.domain.names import remember_name_skeleton
        from chat.guards.origin import room_origin_listed
        from chat.realtime.batch import EventRules, use_event_rules

        request_finished.connect(close_request_connections, dispatch_uid="chat.close_request_connections")
        # Every user's name skeleton stays current, however the user was created or renamed.
        post_save.connect(remember_name_skeleton, sender=get_user_model(), dispatch_uid="chat.name_skeleton")
        # The fan-out learns from the domain which events change access and which it may sample.
        use_event_rules(
            EventRules(
                changes_access=delivery.changes_access,
                may_sample=delivery.may_sample,
                retracts=delivery.retracts,
            )
        )
        # A room's embed origin reads it cross-origin, as CORS_ALLOWED_ORIGINS do (chat/guards/origin.py).
        check_request_enabled.connect(room_origin_listed, dispatch_uid="chat.room_origin_listed")
