"""Deliveries to a real local receiver: signatures, retries, throttling, 410, timeouts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks import Webhook

from chat.domain.eventlog import append_event
from chat.models import AuditEntry, EventKind, Room
from webhooks.delivery import attempt_batch, attempt_batches, attempt_delivery, claim, prune
from webhooks.errors import WebhookError
from webhooks.fanout import fan_out_room
from webhooks.models import Attempt, Delivery, DeliveryState, DisabledReason, Endpoint
from webhooks.registration import add_endpoint, redeliver, rotate_secret

from .helpers import only_delivery, post, queued, queued_attempt
from .receiver import OK, Answer, Receiver

pytestmark = pytest.mark.django_db


def test_delivery_is_signed_and_verifies_with_the_reference_library(lobby: Room, receiver: Receiver) -> None:
    endpoint = add_endpoint(lobby, receiver.url, "message")
    seq = post(lobby, "hello hooks")
    delivery = only_delivery()
    outcome = attempt_delivery(delivery.pk, 0)
    assert outcome is not None
    assert outcome.status == 200
    (request,) = receiver.requests
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "room.message"
    assert payload["room"] == {"slug": "lobby", "epoch": lobby.log_epoch}
    assert payload["data"]["seq"] == seq
    assert payload["data"]["text"] == "hello hooks"
    assert request.headers["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED


def test_a_tampered_body_fails_verification(lobby: Room, receiver: Receiver) -> None:
    endpoint = add_endpoint(lobby, receiver.url, "message")
    post(lobby, "hello")
    attempt_delivery(only_delivery().pk, 0)
    (request,) = receiver.requests
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(endpoint.secret).verify(request.body.replace(b"hello", b"HELLO"), request.headers)


def test_a_rotated_secret_signs_beside_the_old_one_until_the_window_ends(
    lobby: Room, receiver: Receiver, settings: Any
) -> None:
    endpoint = add_endpoint(lobby, receiver.url, "message")
    old = endpoint.secret
    new = rotate_secret(endpoint)
    post(lobby, "during the rotation")
    attempt_delivery(only_delivery().pk, 0)
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)

    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    post(lobby, "after the window")
    attempt_delivery(Delivery.objects.latest("pk").pk, 0)
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(old).verify(request.body, request.headers)


def test_a_failing_receiver_is_retried_on_schedule_and_recovers_with_the_same_id(lobby: Room) -> None:
    with Receiver([Answer(500, body=b"database down"), Answer(502)]).running() as receiver:
        endpoint = add_endpoint(lobby, receiver.url, "message")
        post(lobby, "retry me")
        delivery = only_delivery()
        before = timezone.now()
        assert attempt_delivery(delivery.pk, 0).status == 500  # type: ignore[union-attr]
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PENDING
        assert delivery.attempts == 1
        # The second attempt is due 5 s later, +-20% jitter, and it is queued for then.
        wait = (delivery.next_attempt_at - before).total_seconds()
        assert 3.9 <= wait <= 6.2
        task = queued_attempt(delivery.pk, 1)
        assert abs((task.run_after - delivery.next_attempt_at).total_seconds()) < 0.01
        endpoint.refresh_from_db()
        assert endpoint.failure_streak == 1

        assert attempt_delivery(delivery.pk, 1).status == 502  # type: ignore[union-attr]
        assert attempt_delivery(delivery.pk, 2).status == 200  # type: ignore[union-attr]
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.DELIVERED
        ids = {request.headers["webhook-id"] for request in receiver.requests}
        assert ids == {delivery.message_id}
        log = list(Attempt.objects.filter(delivery=delivery).values_list("number", "status", "excerpt"))
        assert log == [(1, 500, "database down"), (2, 502, "ok"), (3, 200, "ok")]
        endpoint.refresh_from_db()
        assert endpoint.failure_streak == 0
        assert endpoint.failing_since is None


def test_an_attempt_is_sent_once_even_when_queued_twice(lobby: Room, receiver: Receiver) -> None:
    add_endpoint(lobby, receiver.url, "message")
    post(lobby, "once")
    delivery = only_delivery()
    assert attempt_delivery(delivery.pk, 0) is not None
    assert attempt_delivery(delivery.pk, 0) is None  # the same attempt again: not claimed
    assert len(receiver.requests) == 1
    assert not claim(delivery.pk, 0)


def test_a_slow_receiver_times_out(lobby: Room, settings: Any) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with Receiver([Answer(200, delay=3)]).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        post(lobby, "slow")
        delivery = only_delivery()
        outcome = attempt_delivery(delivery.pk, 0)
        assert outcome is not None
        assert outcome.status is None
        assert outcome.error == "timeout"
        assert 900 <= outcome.latency_ms < 2500
        attempt = Attempt.objects.get(delivery=delivery)
        assert attempt.error == "timeout"
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PENDING


def test_410_gone_disables_the_endpoint_with_an_audit_entry(lobby: Room) -> None:
    with Receiver([Answer(410)]).running() as receiver:
        endpoint = add_endpoint(lobby, receiver.url, "message")
        post(lobby, "anyone there?")
        attempt_delivery(only_delivery().pk, 0)
        endpoint.refresh_from_db()
        assert not endpoint.enabled
        assert endpoint.disabled_reason == DisabledReason.GONE
        assert only_delivery().state == DeliveryState.FAILED
        assert queued("deliver") == []  # no retry
        entry = AuditEntry.objects.get(room=lobby, action="webhook_disabled")
        assert "410" in entry.reason
        assert entry.detail["url"] == receiver.url
        post(lobby, "no more")  # a disabled endpoint gets no new deliveries
        assert Delivery.objects.count() == 1


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_answers_are_retried_after_the_time_they_ask(lobby: Room, status: int) -> None:
    with Receiver([Answer(status, headers={"Retry-After": "120"})]).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        post(lobby, "slow down")
        delivery = only_delivery()
        before = timezone.now()
        attempt_delivery(delivery.pk, 0)
        delivery.refresh_from_db()
        wait = (delivery.next_attempt_at - before).total_seconds()
        assert 119 <= wait <= 121  # what was asked, not the schedule's 5 s
        assert delivery.state == DeliveryState.PENDING
        task = queued_attempt(delivery.pk, 1)
        assert abs((task.run_after - delivery.next_attempt_at).total_seconds()) < 0.01


def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_told(lobby: Room) -> None:
    with Receiver(then=Answer(500)).running() as receiver:
        endpoint = add_endpoint(lobby, receiver.url, "message")
        Endpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=3, minutes=1), failure_streak=40
        )
        post(lobby, "still broken")
        attempt_delivery(only_delivery().pk, 0)
        endpoint.refresh_from_db()
        assert not endpoint.enabled
        assert endpoint.disabled_reason == DisabledReason.FAILING
        assert AuditEntry.objects.filter(room=lobby, action="webhook_disabled").count() == 1
        assert only_delivery().state == DeliveryState.FAILED


def test_a_delivery_gives_up_when_the_schedule_runs_out(lobby: Room, settings: Any) -> None:
    settings.WEBHOOK_SCHEDULE = [0, 5]
    with Receiver(then=Answer(500)).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        post(lobby, "doomed")
        delivery = only_delivery()
        attempt_delivery(delivery.pk, 0)
        attempt_delivery(delivery.pk, 1)
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.FAILED
        assert len(receiver.requests) == 2


def test_redeliver_sends_the_same_id_and_body_again(lobby: Room, receiver: Receiver) -> None:
    add_endpoint(lobby, receiver.url, "message")
    post(lobby, "again please")
    delivery = only_delivery()
    attempt_delivery(delivery.pk, 0)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.PENDING)
    with pytest.raises(WebhookError) as pending:
        redeliver(delivery)
    assert pending.value.code == "already_pending"
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DELIVERED)
    redeliver(delivery)
    queued_attempt(delivery.pk, 1)
    attempt_delivery(delivery.pk, 1)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body


def test_a_redirect_is_not_followed(lobby: Room) -> None:
    with Receiver().running() as target, Receiver([Answer(302, headers={"Location": "x"})]).running() as hop:
        hop.script = [Answer(302, headers={"Location": target.url})]
        add_endpoint(lobby, hop.url, "message")
        post(lobby, "follow me")
        outcome = attempt_delivery(only_delivery().pk, 0)
        assert outcome is not None
        assert outcome.status == 302
        assert target.requests == []
        assert only_delivery().state == DeliveryState.PENDING  # a redirect is a failed attempt


def test_the_body_is_the_events_wire_json(lobby: Room, receiver: Receiver) -> None:
    add_endpoint(lobby, receiver.url, "danmaku,delete")
    post(lobby, "not subscribed")
    seq = post(lobby, "flying", EventKind.DANMAKU)
    delivery = only_delivery()
    assert delivery.seq == seq
    attempt_delivery(delivery.pk, 0)
    body = json.loads(receiver.requests[0].body)
    assert body["data"]["kind"] == "danmaku"
    assert body["data"]["video_ms"] is None


def test_old_finished_deliveries_and_tasks_are_pruned(lobby: Room, receiver: Receiver, settings: Any) -> None:
    settings.WEBHOOK_LOG_DAYS = 7
    add_endpoint(lobby, receiver.url, "message")
    post(lobby, "old")
    post(lobby, "new")
    old, new = Delivery.objects.order_by("seq")
    attempt_delivery(old.pk, 0)
    attempt_delivery(new.pk, 0)
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=timezone.now() - timedelta(days=2))
    assert prune() >= 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [new.pk]
    assert not Attempt.objects.filter(delivery_id=old.pk).exists()
    assert DBTaskResult.objects.count() == 0


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_deadline(lobby: Room, settings: Any) -> None:
    """Each byte comes within the socket's timeout; the attempt as a whole still ends in time."""
    import socket
    import threading
    import time

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 40:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.1)

    threading.Thread(target=drip, daemon=True).start()
    try:
        add_endpoint(lobby, f"http://127.0.0.1:{port}/hook", "message")
        post(lobby, "drip")
        outcome = attempt_delivery(only_delivery().pk, 0)
    finally:
        listener.close()
    assert outcome is not None
    assert outcome.error == "timeout"
    assert outcome.latency_ms < 1800


def test_first_attempts_go_in_batches_and_each_is_sent_once(lobby: Room, receiver: Receiver) -> None:
    endpoint = add_endpoint(lobby, receiver.url, "message")
    for n in range(3):
        append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
    fan_out_room(lobby.pk)
    (task,) = queued("deliver_batch")
    endpoint_id, ids = task.args_kwargs["args"]
    assert endpoint_id == endpoint.pk
    assert sorted(ids) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert attempt_batch(endpoint_id, ids) == 3
    assert attempt_batch(endpoint_id, ids) == 0  # queued twice: sent once
    assert len(receiver.requests) == 3
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}
    assert [json.loads(request.body)["data"]["text"] for request in receiver.requests] == ["m0", "m1", "m2"]


def test_healthy_endpoints_share_one_task_and_a_failing_one_has_its_own(
    lobby: Room, receiver: Receiver
) -> None:
    first = add_endpoint(lobby, f"{receiver.url}?n=1", "message")
    second = add_endpoint(lobby, f"{receiver.url}?n=2", "message")
    failing = add_endpoint(lobby, f"{receiver.url}?n=3", "message")
    Endpoint.objects.filter(pk=failing.pk).update(failure_streak=2, failing_since=timezone.now())
    for n in range(2):
        append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
    fan_out_room(lobby.pk)
    (shared,) = queued("deliver_batches")
    batches = shared.args_kwargs["args"][0]
    assert sorted(endpoint_id for endpoint_id, _ in batches) == [first.pk, second.pk]
    (own,) = queued("deliver_batch")
    assert own.args_kwargs["args"][0] == failing.pk
    as_tuples = [(endpoint_id, ids) for endpoint_id, ids in batches]
    assert attempt_batches(as_tuples) == 4
    assert attempt_batches(as_tuples) == 0  # queued twice: sent once
    assert len(receiver.requests) == 4
    delivered = Delivery.objects.filter(state=DeliveryState.DELIVERED)
    assert sorted(delivered.values_list("endpoint_id", flat=True)) == [first.pk] * 2 + [second.pk] * 2
    assert Attempt.objects.count() == 4
    failing.refresh_from_db()
    assert failing.failure_streak == 2  # untouched: its batch is its own task


def test_a_batch_stops_at_410_and_the_rest_fail_with_the_endpoint(lobby: Room) -> None:
    with Receiver([OK, Answer(410)]).running() as receiver:
        endpoint = add_endpoint(lobby, receiver.url, "message")
        for n in range(4):
            append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
        fan_out_room(lobby.pk)
        (task,) = queued("deliver_batch")
        assert attempt_batch(*task.args_kwargs["args"]) == 2
        (rest,) = [t for t in queued("deliver_batch") if t.pk != task.pk]
        assert len(rest.args_kwargs["args"][1]) == 2  # given back, unsent
        assert attempt_batch(*rest.args_kwargs["args"]) == 0  # the endpoint is off now
        endpoint.refresh_from_db()
        assert not endpoint.enabled
        states = list(Delivery.objects.order_by("seq").values_list("state", flat=True))
        assert states == ["delivered", "failed", "failed", "failed"]
        assert len(receiver.requests) == 2


def test_a_batch_stops_at_the_timeout_and_gives_the_rest_back(lobby: Room, settings: Any) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with Receiver(then=Answer(200, delay=0.6)).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        for n in range(5):
            append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
        fan_out_room(lobby.pk)
        (task,) = queued("deliver_batch")
        assert attempt_batch(*task.args_kwargs["args"]) == 2
        (rest,) = [t for t in queued("deliver_batch") if t.pk != task.pk]
        assert attempt_batch(*rest.args_kwargs["args"]) == 2
        assert len(receiver.requests) == 4
        assert Delivery.objects.filter(state=DeliveryState.PENDING, attempts=0).count() == 1


def test_a_batch_keeps_one_connection_open(lobby: Room) -> None:
    with Receiver(keep_alive=True).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        for n in range(4):
            append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
        fan_out_room(lobby.pk)
        (task,) = queued("deliver_batch")
        assert attempt_batch(*task.args_kwargs["args"]) == 4
    assert len({request.client_port for request in receiver.requests}) == 1
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def test_a_connection_the_receiver_closed_is_replaced_and_the_attempt_sent(lobby: Room) -> None:
    with Receiver([Answer(200, hang_up=True)], keep_alive=True).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        for n in range(3):
            append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
        fan_out_room(lobby.pk)
        (task,) = queued("deliver_batch")
        assert attempt_batch(*task.args_kwargs["args"]) == 3
    assert [request.status for request in receiver.requests] == [200, 200, 200]
    assert len({request.client_port for request in receiver.requests}) == 2
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}
    assert not Attempt.objects.exclude(error="").exists()


def test_attempts_on_a_kept_alive_connection_do_not_wait_for_delayed_acks(lobby: Room) -> None:
    """http.client writes headers and body apart: without TCP_NODELAY each attempt after the
    first waited for the receiver's delayed ACK (about 40 ms)."""
    with Receiver(keep_alive=True).running() as receiver:
        add_endpoint(lobby, receiver.url, "message")
        for n in range(20):
            append_event(lobby, EventKind.MESSAGE, text=f"m{n}")
        fan_out_room(lobby.pk)
        (task,) = queued("deliver_batch")
        attempt_batch(*task.args_kwargs["args"])
    latencies = list(Attempt.objects.values_list("latency_ms", flat=True))
    assert len(latencies) == 20
    assert sorted(latencies)[10] < 20  # the median; 40 and more with the stall
