"""Receivers on private, loopback and link-local addresses are refused, by name or by number."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Room
from webhooks.delivery import attempt_delivery
from webhooks.errors import WebhookError
from webhooks.models import Attempt
from webhooks.registration import add_endpoint
from webhooks.ssrf import is_public, resolve

from .helpers import only_delivery, post
from .receiver import Answer, Receiver

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_inside_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "8.8.8.8"])
def test_outside_addresses_are_public(address: str) -> None:
    assert is_public(address)


def test_a_name_resolving_to_loopback_is_refused_at_registration(lobby: Room, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(WebhookError) as refused:
        add_endpoint(lobby, "http://localhost:9/hook", "message")
    assert refused.value.code == "private_address"
    with pytest.raises(WebhookError) as refused:
        resolve("http://127.0.0.1:9/")
    assert refused.value.code == "private_address"


def test_a_name_that_turned_to_loopback_is_refused_at_delivery(lobby: Room, settings: Any) -> None:
    """Registered while allowed (or while the name pointed elsewhere): checked again each time."""
    with Receiver().running() as receiver:
        add_endpoint(lobby, receiver.url.replace("127.0.0.1", "localhost"), "message")
        settings.WEBHOOK_ALLOW_PRIVATE = False
        post(lobby, "to the inside")
        outcome = attempt_delivery(only_delivery().pk, 0)
        assert outcome is not None
        assert outcome.status is None
        assert outcome.error == "private_address"
        assert receiver.requests == []
        assert Attempt.objects.get().error == "private_address"


def test_a_redirect_to_loopback_is_not_followed(lobby: Room) -> None:
    """The redirecting receiver is allowed here (it is local too); its Location never is."""
    with Receiver().running() as inside:
        with Receiver([Answer(307, headers={"Location": inside.url})]).running() as hop:
            add_endpoint(lobby, hop.url, "message")
            post(lobby, "redirected")
            outcome = attempt_delivery(only_delivery().pk, 0)
        assert outcome is not None
        assert outcome.status == 307
        assert inside.requests == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/", "bad_url"),
        ("http:///nohost", "bad_url"),
        ("http://user:pw@example.com/", "bad_url"),
        ("http://example.com:99999/", "bad_url"),
        ("javascript:alert(1)", "bad_url"),
        ("http://no-such-host.invalid/", "unresolvable"),
    ],
)
def test_bad_urls_get_a_stable_code(lobby: Room, url: str, code: str) -> None:
    with pytest.raises(WebhookError) as refused:
        add_endpoint(lobby, url, "message")
    assert refused.value.code == code
