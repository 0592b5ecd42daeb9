from __future__ import annotations

import pytest
from django.test import AsyncClient

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthy_process_answers_200() -> None:
    answer = await AsyncClient().get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}
    assert answer["Cache-Control"] == "no-store"


async def test_a_failing_database_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr("chat.web.health._database", broken)
    answer = await AsyncClient().get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "failing", "database": "failing", "channel_layer": "ok"}


async def test_a_hanging_channel_layer_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hangs() -> None:
        import asyncio

        await asyncio.sleep(60)

    monkeypatch.setattr("chat.web.health._channel_layer", hangs)
    monkeypatch.setattr("chat.web.health.CHECK_TIMEOUT_SECS", 0.2)
    answer = await AsyncClient().get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["channel_layer"] == "failing"
