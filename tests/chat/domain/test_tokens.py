"""API tokens in the domain: made once and stored as a digest, checked, limited, revoked
(chat/domain/tokens.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from chat.domain.tokens import (
    TOKENS_PER_USER_MAX,
    authenticate,
    bearer_token,
    create_token,
    digest_of,
    revoke_token,
)
from chat.errors import ChatError
from chat.models import ApiToken, Room

pytestmark = pytest.mark.django_db


def refusal(call: object, *args: object, **kwargs: object) -> ChatError:
    with pytest.raises(ChatError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_a_token_is_stored_as_a_digest_and_names_its_user(alice: AbstractBaseUser) -> None:
    made = create_token(alice, "bot", "post,read")
    stored = ApiToken.objects.get()
    assert made.raw.startswith("cdt_")
    assert len(made.raw) > 40
    assert made.raw not in (stored.digest, stored.prefix)
    assert stored.digest == digest_of(made.raw)
    assert made.raw.startswith(stored.prefix)
    assert stored.scopes == ["read", "post"]
    token = authenticate(made.raw)
    assert token.user == alice
    assert token.last_used_at is not None


@pytest.mark.parametrize("raw", ["", "nope", "cdt_" + "x" * 43, "x" * 5000, "cdt_\u00e9"])
def test_unknown_tokens_are_invalid(alice: AbstractBaseUser, raw: str) -> None:
    create_token(alice, "bot", "read")
    error = refusal(authenticate, raw)
    assert (error.code, error.status) == ("invalid_token", 401)


def test_revoked_and_expired_tokens_have_their_own_codes(alice: AbstractBaseUser) -> None:
    made = create_token(alice, "bot", "read")
    assert revoke_token(alice, made.token.pk)
    assert not revoke_token(alice, made.token.pk)
    assert refusal(authenticate, made.raw).code == "token_revoked"
    later = create_token(alice, "soon", "read", expires_at=timezone.now() + timedelta(hours=1))
    ApiToken.objects.filter(pk=later.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refusal(authenticate, later.raw).code == "token_expired"


def test_a_token_of_an_inactive_account_is_invalid(alice: AbstractBaseUser) -> None:
    made = create_token(alice, "bot", "read")
    alice.is_active = False
    alice.save()
    assert refusal(authenticate, made.raw).code == "invalid_token"


def test_someone_else_cannot_revoke_a_token(alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    made = create_token(alice, "bot", "read")
    assert not revoke_token(bob, made.token.pk)
    assert authenticate(made.raw).user == alice


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [
        ("", "read", "name"),
        ("x" * 101, "read", "name"),
        ("ok", "", "scopes"),
        ("ok", "read,admin", "scopes"),
        ("ok", 7, "scopes"),
    ],
)
def test_bad_token_requests_are_refused(
    alice: AbstractBaseUser, name: str, scopes: object, field: str
) -> None:
    error = refusal(create_token, alice, name, scopes)
    assert (error.code, error.extra["field"]) == ("invalid", field)
    assert not ApiToken.objects.exists()


def test_expiry_must_be_in_the_future(alice: AbstractBaseUser) -> None:
    error = refusal(create_token, alice, "x", "read", expires_at=timezone.now() - timedelta(days=1))
    assert error.extra["field"] == "expires_at"


def test_tokens_per_account_are_bounded(alice: AbstractBaseUser) -> None:
    for n in range(TOKENS_PER_USER_MAX):
        create_token(alice, f"t{n}", "read")
    assert refusal(create_token, alice, "one more", "read").code == "invalid"
    revoke_token(alice, ApiToken.objects.first().pk)  # type: ignore[union-attr]
    create_token(alice, "after a revoke", "read")


def test_a_token_limited_to_rooms_knows_them(alice: AbstractBaseUser, room: Room) -> None:
    made = create_token(alice, "bot", "read", rooms=[room])
    assert authenticate(made.raw).room_ids == {room.pk}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("header", "raw"),
    [(None, None), ("", None), ("Basic abc", None), ("Bearer abc", "abc"), ("bearer  abc ", "abc")],
)
def test_bearer_header(header: str | None, raw: str | None) -> None:
    assert bearer_token(header) == raw


def test_a_bearer_header_without_a_token_is_invalid() -> None:
    assert refusal(bearer_token, "Bearer  ").code == "invalid_token"
