"""The GCRA limiter: no reset at window boundaries, honest Retry-After, atomic on Redis."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from chat.guards.ratelimit import Check, Rate, claim, count, hit, parse_rate, release
from tests.conftest import REDIS_TEST_URL, require_service


def test_limit_holds_across_a_window_boundary() -> None:
    rate = Rate(2, 60)
    # Two actions just before a minute boundary, a third just after: a fixed window would allow it.
    assert hit("boundary", rate, now=6059.9) is None
    assert hit("boundary", rate, now=6059.95) is None
    wait = hit("boundary", rate, now=6060.01)
    assert wait is not None
    assert wait == 30  # one action's worth of the period must pass


def test_refused_actions_are_not_counted_and_retry_after_is_honest() -> None:
    rate = Rate(3, 10)
    start = 1000.0
    for n in range(3):
        assert hit("honest", rate, now=start + n * 0.1) is None
    refusals = [hit("honest", rate, now=start + 0.5) for _ in range(20)]
    assert all(wait is not None for wait in refusals)
    wait = refusals[-1]
    assert wait is not None
    # Hammering did not extend the wait: one more fits once the reported time has passed.
    assert hit("honest", rate, now=start + 0.5 + wait) is None


def test_steady_rate_at_the_limit_is_allowed() -> None:
    rate = Rate(5, 10)
    refused = [hit("steady", rate, now=500.0 + n * 2.0) for n in range(50)]
    assert refused == [None] * 50


def test_keys_are_independent() -> None:
    rate = Rate(1, 10)
    assert hit("a", rate, now=50.0) is None
    assert hit("b", rate, now=50.0) is None
    assert hit("a", rate, now=50.1) is not None


@pytest.mark.parametrize("text", ["", "5", "a/b", "0/10", "5/0", "-1/5"])
def test_bad_rates_are_refused(text: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        parse_rate(text)


def test_redis_backed_limit_is_shared_and_atomic() -> None:
    """Two cache clients (two processes' worth) share one bucket; concurrent hits never overshoot."""
    require_service("Redis", REDIS_TEST_URL)
    import threading
    import uuid

    from django.core.cache.backends.redis import RedisCache

    caches = [RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": "rl-test"}) for _ in range(2)]
    key = f"shared-{uuid.uuid4().hex}"
    rate = Rate(50, 60)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for _ in range(40):
            result = hit(key, rate, cache=caches[n % 2])
            with lock:
                allowed.append(result is None)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for redis_cache in caches:
        redis_cache.get("warm-up")  # Django creates a client's pool lazily and not thread-safely
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refills = int((time.monotonic() - started) / rate.interval) + 1
        # 160 attempts: exactly the burst of 50 gets through, plus what refilled meanwhile.
        assert 50 <= sum(allowed) <= 50 + refills
        wait = hit(key, rate, cache=caches[0])
        assert wait is not None
        assert 1 <= wait <= 2
    finally:
        for redis_cache in caches:
            for pool in redis_cache._cache._pools.values():
                pool.disconnect()


# Claims: several checks counted together, all or nothing, the same on Redis and in process.


@pytest.fixture(params=["in-process", "redis"])
def claim_cache(request: pytest.FixtureRequest) -> Iterator[BaseCache]:
    if request.param == "in-process":
        yield LocMemCache(f"claims-{uuid.uuid4().hex}", {})
        return
    require_service("Redis", REDIS_TEST_URL)
    redis_cache = RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": f"claims-{uuid.uuid4().hex}"})
    yield redis_cache
    for pool in redis_cache._cache._pools.values():
        pool.disconnect()


def test_a_claim_counts_against_every_check_or_against_none(claim_cache: BaseCache) -> None:
    def post(text: str) -> list[Check]:
        return [
            Check("user", Rate(2, 60)),
            Check(f"same:{text}", once=30),
            Check("slow", Rate(1, 10)),
        ]

    assert claim(post("a"), now=1000.0, cache=claim_cache) is None
    assert claim(post("a"), now=1005.0, cache=claim_cache) == (1, 25)  # the same text again
    assert claim(post("b"), now=1005.0, cache=claim_cache) == (2, 5)  # slow mode
    # Neither refusal was counted: not against the user's 2 a minute, not as text "b" posted.
    assert claim(post("b"), now=1010.0, cache=claim_cache) is None
    assert claim(post("c"), now=1020.0, cache=claim_cache) == (0, 10)  # now the user's rate (2 a minute)
    # "a" may be posted again once its 30 s are over.
    assert claim(post("a"), now=1060.0, cache=claim_cache) is None


def test_a_released_claim_may_be_made_again(claim_cache: BaseCache) -> None:
    same = [Check("once", once=30)]
    assert claim(same, now=2000.0, cache=claim_cache) is None
    assert claim(same, now=2001.0, cache=claim_cache) == (0, 29)
    release("once", cache=claim_cache)
    assert claim(same, now=2002.0, cache=claim_cache) is None


def test_hit_is_a_claim_of_one_rate(claim_cache: BaseCache) -> None:
    assert hit("single", Rate(1, 10), now=3000.0, cache=claim_cache) is None
    assert claim([Check("ratelimit:single", Rate(1, 10))], now=3001.0, cache=claim_cache) == (0, 9)


def test_counters_count_and_expire(claim_cache: BaseCache) -> None:
    for _ in range(3):
        count("counted", 60, cache=claim_cache)
    assert int(claim_cache.get("counted")) == 3
    assert claim_cache.get_many(["counted", "never"]) == {"counted": 3}


def test_a_cache_outage_allows_the_claim(caplog: pytest.LogCaptureFixture) -> None:
    down = RedisCache("redis://127.0.0.1:1/0", {})  # nothing listens there
    with caplog.at_level(logging.WARNING):
        assert claim([Check("user", Rate(1, 60)), Check("same", once=30)], cache=down) is None
    assert "rate limit user" in caplog.text
