"""Webhooks from real daphne processes to a real local receiver: delivered after the server
alone starts, resumed after a restart, and sent once by two processes on Redis and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from standardwebhooks import Webhook

from tests.webhooks.receiver import Answer, Receiver

from ..conftest import require_service
from .conftest import ROOT, DaphneServer, _server_env, create_rooms, login, manage, post_messages, restarted

pytestmark = pytest.mark.e2e

POSTGRES_TEST_URL = os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/chat")
# Attempts 1 s apart here (the real schedule waits 5 s, then minutes), receivers on 127.0.0.1.
FAST = {"WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_SCHEDULE": "0,1,1,1,1,1"}


def add_webhook(env: dict[str, str], slug: str, url: str, events: str = "message") -> str:
    """`manage.py addwebhook`; the secret it prints last."""
    return manage({**env, **FAST}, "addwebhook", slug, url, "--events", events).strip().splitlines()[-1]


def new_room(env: dict[str, str]) -> str:
    slug = f"hooks-{uuid.uuid4().hex[:8]}"
    create_rooms(env, {slug: []})
    return slug


def test_a_posted_message_is_delivered_by_the_server_alone(
    start_server: Callable[..., DaphneServer], e2e_env: dict[str, str]
) -> None:
    slug = new_room(e2e_env)
    with Receiver().running() as receiver:
        secret = add_webhook(e2e_env, slug, receiver.url)
        assert secret.startswith("whsec_")
        server = start_server(**FAST)  # no worker command: the server sends
        (ack,) = post_messages(server, slug, login(server.base_url, "alice"), ["to the hook"])
        (request,) = receiver.wait_for(1)
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["room"]["slug"] == slug
        assert payload["data"]["seq"] == ack["seq"]
        assert payload["data"]["text"] == "to the hook"
        assert payload["data"]["user"]["name"] == "alice"


def test_a_restart_in_the_middle_of_retries_resumes_them(
    start_server: Callable[..., DaphneServer], e2e_env: dict[str, str], tmp_path: Path
) -> None:
    slug = new_room(e2e_env)
    with Receiver([Answer(500), Answer(503)]).running() as receiver:
        secret = add_webhook(e2e_env, slug, receiver.url)
        server = start_server(**{**FAST, "WEBHOOK_SCHEDULE": "0,3,3,3"})
        post_messages(server, slug, login(server.base_url, "alice"), ["survive a restart"])
        receiver.wait_for(1)
        time.sleep(0.5)  # the failed attempt is recorded and the next one queued
        server.stop()
        stopped_at = len(receiver.requests)
        assert stopped_at == 1  # the retry was 3 s away
        with restarted(server, tmp_path, **FAST):
            requests = receiver.wait_for(3)
        assert [request.status for request in requests] == [500, 503, 200]
        assert len({request.headers["webhook-id"] for request in requests}) == 1
        Webhook(secret).verify(requests[-1].body, requests[-1].headers)


@pytest.fixture
def postgres_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A migrated throwaway PostgreSQL database for servers, dropped afterwards."""
    require_service("PostgreSQL", POSTGRES_TEST_URL)
    import psycopg

    def on(database: str) -> str:
        return urlunsplit(urlsplit(POSTGRES_TEST_URL)._replace(path=f"/{database}"))

    name = f"chat_hooks_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(on("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _server_env(tmp_path_factory.mktemp("hooks-pg"), on(name))
    finally:
        with psycopg.connect(on("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_processes_on_redis_and_postgres_deliver_each_event_once(
    postgres_env: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    slug = new_room(postgres_env)
    count = 60
    # Some first attempts fail, so retries run in both processes too.
    with Receiver([Answer(500)] * 6).running() as receiver:
        secret = add_webhook(postgres_env, slug, receiver.url)
        env = {**postgres_env, **FAST, "REDIS_URL": redis_url, "REDIS_PREFIX": f"hooks{uuid.uuid4().hex[:6]}"}
        servers = [DaphneServer(env, tmp_path / f"daphne-{n}.log").start() for n in range(2)]
        try:
            cookies = login(servers[0].base_url, "alice")
            for n in range(count // 10):
                post_messages(servers[n % 2], slug, cookies, [f"m{n}-{k}" for k in range(10)])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if sum(request.status == 200 for request in receiver.requests) >= count:
                    break
                time.sleep(0.1)
            time.sleep(3)  # anything sent twice would have arrived by now
        finally:
            for server in servers:
                server.stop()
    succeeded = Counter(
        request.headers["webhook-id"] for request in receiver.requests if request.status == 200
    )
    assert len(succeeded) == count
    assert set(succeeded.values()) == {1}
    attempts = Counter(request.headers["webhook-id"] for request in receiver.requests)
    assert sum(attempts.values()) == count + 6  # each failed first attempt retried once, no more
    seqs = sorted(
        json.loads(request.body)["data"]["seq"] for request in receiver.requests if request.status == 200
    )
    assert seqs == list(range(1, count + 1))
    for request in receiver.requests[:3]:
        Webhook(secret).verify(request.body, request.headers)


def test_with_the_worker_off_the_server_queues_and_runwebhooks_sends(
    start_server: Callable[..., DaphneServer], e2e_env: dict[str, str], tmp_path: Path
) -> None:
    """Production's split (deploy/chat-webhooks.service): the servers only queue."""
    slug = new_room(e2e_env)
    with Receiver().running() as receiver:
        secret = add_webhook(e2e_env, slug, receiver.url)
        server = start_server(**FAST, WEBHOOK_WORKER="off")
        post_messages(server, slug, login(server.base_url, "alice"), ["queued", "and sent"])
        time.sleep(2)
        assert receiver.requests == []  # nobody sends yet
        env = {**e2e_env, **FAST}
        with (tmp_path / "runwebhooks.log").open("ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "runwebhooks", "--threads", "2"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            requests = receiver.wait_for(2)
            # Below every ordinary process, its sender threads too (webhooks/priority.py).
            threads = [int(tid) for tid in os.listdir(f"/proc/{worker.pid}/task")]
            assert len(threads) > 2
            assert {os.sched_getscheduler(tid) for tid in threads} == {os.SCHED_IDLE}
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=15) == 0
    texts = sorted(
        Webhook(secret).verify(request.body, request.headers)["data"]["text"] for request in requests
    )
    assert texts == ["and sent", "queued"]
