"""`GET /healthz`: is this process able to serve? For load balancers and monitoring."""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from chat.realtime.hub import running_hub

logger = logging.getLogger(__name__)

# A check that takes longer than this counts as failed: a balancer should move on.
CHECK_TIMEOUT_SECS = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _channel_layer() -> None:
    """A message sent through the layer comes back: the layer (and Redis behind it) works.
    Through the hub's own channel when it runs (it is then the process's one receiver)."""
    hub = running_hub()
    if hub is not None:
        await hub.ping()
        return
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("health")
    await layer.send(channel, {"type": "health.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "health.ping":
        raise RuntimeError("the channel layer returned something else")


@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_sync_to_async(_database)(), "channel_layer": _channel_layer()}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT_SECS)
            results[name] = "ok"
        except Exception as error:  # any failure is reported, none is raised
            logger.warning("health check %s failed: %r", name, error)
            results[name] = "failing"
    healthy = all(result == "ok" for result in results.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "failing", **results}, status=200 if healthy else 503
    )
    response["Cache-Control"] = "no-store"
    return response
