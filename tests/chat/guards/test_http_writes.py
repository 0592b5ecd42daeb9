"""The HTTP write rate per address (chat/guards/http_writes.py): every POST, the login form's too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.models import Room

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def test_http_writes_are_limited_per_address(owned: Room, bob: AbstractBaseUser, settings: Any) -> None:
    settings.CHAT_HTTP_WRITE_RATE_IP = "2/60"
    client = Client()
    client.force_login(bob)
    answers = [
        client.post(
            "/rooms/lobby/messages", data=json.dumps({"text": f"m{n}"}), content_type="application/json"
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "rate_limited"
    assert int(answers[2]["Retry-After"]) >= 1
    login = Client().post("/accounts/login/", {"username": "bob", "password": "guess"})
    assert login.status_code == 429  # password guessing is slowed by the same limit
