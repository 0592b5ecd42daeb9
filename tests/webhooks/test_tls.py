"""HTTPS endpoints: the connection goes to the checked address and the certificate is still
verified for the URL's host."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from chat.models import Room
from tests.e2e.test_nginx import make_certificate
from webhooks.delivery import attempt_delivery
from webhooks.models import DeliveryState
from webhooks.registration import add_endpoint

from .helpers import only_delivery, post
from .receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A throwaway CA, and a server context with its certificate for 127.0.0.1."""
    ca, chain, key = make_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    return ca, context


def test_an_https_receiver_with_a_trusted_certificate_gets_the_delivery(
    lobby: Room, certificate: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, context = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the default context trusts the test CA
    with Receiver(tls=context).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        post(lobby, "over TLS")
        outcome = attempt_delivery(only_delivery().pk, 0)
    assert outcome is not None
    assert outcome.status == 200
    assert only_delivery().state == DeliveryState.DELIVERED


def test_an_untrusted_certificate_fails_the_attempt(
    lobby: Room, certificate: tuple[Path, ssl.SSLContext]
) -> None:
    _, context = certificate
    with Receiver(tls=context).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        post(lobby, "over TLS")
        outcome = attempt_delivery(only_delivery().pk, 0)
        assert receiver.requests == []
    assert outcome is not None
    assert outcome.error == "tls_error"
