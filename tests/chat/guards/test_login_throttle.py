"""Login throttling (chat/guards/login.py): failed logins per username and per client address."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.guards import login as security
from tests.conftest import REDIS_TEST_URL, require_service

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ALICE_PASSWORD = "pw-alice-123"  # tests/chat/conftest.py
UNLIMITED = "100000/1"


class Clock:
    """Stands in for the `time` module of the limiter and the lock, so tests need not sleep."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("chat.guards.ratelimit.time", fake)
    monkeypatch.setattr("chat.guards.login.time", fake)
    return fake


@pytest.fixture
def limits(settings: Any) -> Any:
    """Both limits off; a test tightens the one it is about."""
    settings.CHAT_LOGIN_FAILURE_RATE = UNLIMITED
    settings.CHAT_LOGIN_FAILURE_RATE_IP = UNLIMITED
    return settings


def attempt(username: str, password: str, address: str = "10.0.0.1", **headers: str) -> Any:
    """A login from `address` in a fresh client (a browser without cookies)."""
    client = Client(REMOTE_ADDR=address)
    answer = client.post(LOGIN, {"username": username, "password": password}, headers=headers)
    answer.client_session_user = client.session.get("_auth_user_id")
    return answer


def assert_throttled(answer: Any) -> int:
    assert answer.status_code == 429
    assert answer.client_session_user is None  # not logged in
    retry_after = int(answer["Retry-After"])
    assert retry_after >= 1
    assert "Too many failed logins" in answer.content.decode()
    return retry_after


def assert_wrong_password(answer: Any) -> None:
    assert answer.status_code == 200  # the form again
    assert "Please enter a correct username and password" in answer.content.decode()
    assert answer.client_session_user is None


def assert_logged_in(answer: Any, user: AbstractBaseUser) -> None:
    assert answer.status_code == 302, answer.content.decode()[:300]
    assert answer.client_session_user == str(user.pk)


def test_failed_logins_for_one_username_lock_it_until_retry_after(
    alice: AbstractBaseUser, limits: Any, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    limits.CHAT_LOGIN_FAILURE_RATE = "3/60"  # a burst of 3, then one every 20 s
    for _ in range(3):
        assert_wrong_password(attempt("alice", "guess"))
    retry_after = assert_throttled(attempt("alice", "guess"))
    assert retry_after == 20
    assert "too many failed logins: username 'alice' locked for 20 s" in caplog.text
    # Locked: even the right password is not looked at.
    assert retry_after == assert_throttled(attempt("alice", ALICE_PASSWORD))
    clock.now += 5
    assert assert_throttled(attempt("alice", ALICE_PASSWORD)) == retry_after - 5

    clock.now += retry_after
    assert_logged_in(attempt("alice", ALICE_PASSWORD), alice)
    # One more wrong guess fits the refilled bucket; the next one is refused again.
    assert_wrong_password(attempt("alice", "guess"))
    assert_throttled(attempt("alice", "guess"))


def test_the_username_limit_holds_across_addresses_and_letter_case(
    alice: AbstractBaseUser, bob: AbstractBaseUser, limits: Any, clock: Clock
) -> None:
    limits.CHAT_LOGIN_FAILURE_RATE = "4/60"
    for n, name in enumerate(["alice", "Alice", "ALICE", "alice"]):
        assert_wrong_password(attempt(name, "guess", address=f"10.0.1.{n}"))
    assert_throttled(attempt("aLiCe", "guess", address="10.0.1.99"))
    assert_throttled(attempt("alice", ALICE_PASSWORD, address="10.0.1.100"))
    # Another account from the same addresses is not affected.
    assert_logged_in(attempt("bob", "pw-bob-123", address="10.0.1.0"), bob)


def test_the_address_limit_holds_across_usernames(bob: AbstractBaseUser, limits: Any, clock: Clock) -> None:
    limits.CHAT_LOGIN_FAILURE_RATE_IP = "3/60"
    for n in range(3):
        assert_wrong_password(attempt(f"nobody-{n}", "guess", address="10.0.2.1"))
    assert_throttled(attempt("nobody-3", "guess", address="10.0.2.1"))
    assert_throttled(attempt("bob", "pw-bob-123", address="10.0.2.1"))
    # Bob from elsewhere: his username has no failures.
    assert_logged_in(attempt("bob", "pw-bob-123", address="10.0.2.2"), bob)


def test_successful_logins_cost_nothing(alice: AbstractBaseUser, limits: Any, clock: Clock) -> None:
    limits.CHAT_LOGIN_FAILURE_RATE = "2/60"
    limits.CHAT_LOGIN_FAILURE_RATE_IP = "2/60"
    for _ in range(6):
        assert_logged_in(attempt("alice", ALICE_PASSWORD), alice)
    assert_wrong_password(attempt("alice", "guess"))


def test_a_json_client_gets_the_stable_code_and_retry_after(
    alice: AbstractBaseUser, limits: Any, clock: Clock
) -> None:
    limits.CHAT_LOGIN_FAILURE_RATE = "1/30"
    assert_wrong_password(attempt("alice", "guess", Accept="application/json"))
    answer = attempt("alice", "guess", Accept="application/json")
    assert answer.status_code == 429
    assert answer["Content-Type"] == "application/json"
    body = answer.json()
    assert body["code"] == "rate_limited"
    assert body["retry_after"] == int(answer["Retry-After"]) == 30
    assert "Too many failed logins" in body["message"]


def test_the_admin_login_shares_the_buckets(limits: Any, clock: Clock) -> None:
    limits.CHAT_LOGIN_FAILURE_RATE = "2/60"
    root = get_user_model().objects.create_superuser("root", password="pw-root-123")
    for _ in range(2):
        assert_wrong_password(attempt("root", "guess"))
    assert_throttled(attempt("root", "guess"))
    client = Client(REMOTE_ADDR="10.0.3.1")
    answer = client.post("/admin/login/", {"username": "root", "password": "pw-root-123", "next": "/admin/"})
    assert answer.status_code == 429  # the admin's form again, with the error
    assert int(answer["Retry-After"]) == 30
    assert "Too many failed logins" in answer.content.decode()
    assert client.session.get("_auth_user_id") is None
    clock.now += 60
    answer = client.post("/admin/login/", {"username": "root", "password": "pw-root-123", "next": "/admin/"})
    assert answer.status_code == 302
    assert client.session.get("_auth_user_id") == str(root.pk)


def test_a_staff_only_refusal_is_not_a_failed_login(
    alice: AbstractBaseUser, limits: Any, clock: Clock
) -> None:
    """The right password of a non-staff user at the admin login is refused, but not counted."""
    limits.CHAT_LOGIN_FAILURE_RATE = "1/60"
    client = Client(REMOTE_ADDR="10.0.4.1")
    for _ in range(3):
        answer = client.post("/admin/login/", {"username": "alice", "password": ALICE_PASSWORD})
        assert answer.status_code == 200
        assert "Too many failed logins" not in answer.content.decode()
    assert_logged_in(attempt("alice", ALICE_PASSWORD), alice)


def test_the_lock_lives_in_the_shared_cache(monkeypatch: pytest.MonkeyPatch, limits: Any) -> None:
    """Two processes on one Redis: failures counted by one lock the username in the other."""
    require_service("Redis", REDIS_TEST_URL)
    from django.core.cache.backends.redis import RedisCache

    prefix = f"login-test-{uuid.uuid4().hex[:8]}"
    first, second = (RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": prefix}) for _ in range(2))
    limits.CHAT_LOGIN_FAILURE_RATE = "2/60"
    try:
        monkeypatch.setattr("chat.guards.ratelimit.shared_cache", lambda: first)
        monkeypatch.setattr("chat.guards.login.cache", first)
        assert security.record_login_failure(None, "carol") is None
        assert security.record_login_failure(None, "carol") is None
        assert security.record_login_failure(None, "carol") == 30
        monkeypatch.setattr("chat.guards.ratelimit.shared_cache", lambda: second)
        monkeypatch.setattr("chat.guards.login.cache", second)
        wait = security.login_locked(None, "Carol")
        assert wait is not None
        assert 1 <= wait <= 30
        assert security.login_locked(None, "dave") is None
    finally:
        for user in ("carol", "dave"):
            for key, _rate, _what in security._throttle_keys(None, user):
                first.delete_many([f"ratelimit:{key}", f"lock:{key}"])
        for redis_cache in (first, second):
            redis_cache.close()


def test_a_throttled_login_says_so_in_the_pages_language(
    alice: AbstractBaseUser, limits: Any, clock: Clock
) -> None:
    limits.CHAT_LOGIN_FAILURE_RATE = "1/60"
    attempt("alice", "guess", accept_language="ja")
    answer = attempt("alice", "guess", accept_language="ja")
    assert answer.status_code == 429
    wait = int(answer["Retry-After"])
    page = answer.content.decode()
    assert f"ログイン失敗が多すぎます。{wait} 秒後にもう一度お試しください。" in page
    assert "Too many failed logins" not in page
