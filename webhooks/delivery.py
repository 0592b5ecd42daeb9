"""One attempt of one delivery: claim it, sign it, send it, record what came back, and queue
the next attempt or disable the endpoint."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chat.domain.audit import audit

from .durability import bookkeeping
from .models import Attempt, Delivery, DeliveryState, DisabledReason, Endpoint
from .schedule import retry_delay
from .sender import Outcome, Session, post
from .signing import signed_headers
from .tasks import QUEUE, enqueue_batch, enqueue_delivery

logger = logging.getLogger(__name__)

GONE = 410
# A claimed attempt whose worker died is queued again after this much more than the timeout.
LEASE_GRACE = timedelta(seconds=60)
RECOVER_BATCH = 1000  # stuck deliveries queued again per sweep
PRUNE_BATCH = 5000  # finished rows deleted per sweep and table
TASKS_KEPT = timedelta(days=1)  # finished task rows (the delivery log keeps what matters)


def secrets_in_force(endpoint: Endpoint, now: datetime) -> list[str]:
    """The secret, and the one before it while its rotation window lasts."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def claim(delivery_id: int, attempts_made: int) -> bool:
    """Move the delivery from `attempts_made` to `attempts_made + 1` claimed attempts; False
    when another worker did first (or the delivery is no longer pending)."""
    updated = Delivery.objects.filter(
        pk=delivery_id, state=DeliveryState.PENDING, attempts=attempts_made
    ).update(attempts=attempts_made + 1, next_attempt_at=timezone.now())
    return updated == 1


def claim_first_attempts(batches: list[tuple[int, list[int]]]) -> dict[int, list[int]]:
    """Claim the first attempts of the batches' deliveries that no other worker claimed: per
    endpoint, the ids this worker now sends. Two statements for the lot, not one per delivery:
    the rows still unclaimed are locked (another worker's claim skips them, on PostgreSQL; on
    SQLite the transaction holds the one write lock), then moved to one attempt."""
    wanted = {delivery_id for _, ids in batches for delivery_id in ids}
    with bookkeeping():
        rows = Delivery.objects.select_for_update(skip_locked=True).filter(
            pk__in=wanted, state=DeliveryState.PENDING, attempts=0
        )
        mine = set(rows.values_list("pk", flat=True))
        if mine:
            Delivery.objects.filter(pk__in=mine).update(attempts=1, next_attempt_at=timezone.now())
    return {
        endpoint_id: [delivery_id for delivery_id in ids if delivery_id in mine]
        for endpoint_id, ids in batches
    }


def attempt_delivery(delivery_id: int, attempts_made: int) -> Outcome | None:
    """Send attempt `attempts_made + 1`; what came back, or None when it was not this worker's."""
    if not claim(delivery_id, attempts_made):
        return None
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        Delivery.objects.filter(pk=delivery_id).update(state=DeliveryState.FAILED)
        return None
    started_at = timezone.now()
    outcome = send(endpoint, delivery, started_at)
    record(endpoint.pk, [(delivery, outcome, started_at)])
    return outcome


def attempt_batch(endpoint_id: int, delivery_ids: list[int]) -> int:
    """Send the first attempts of a batch of one endpoint's deliveries; how many were sent."""
    return attempt_batches([(endpoint_id, delivery_ids)])


def attempt_batches(batches: list[tuple[int, list[int]]]) -> int:
    """Send the first attempts of batches of deliveries (one per endpoint), one endpoint after
    another over a kept-alive connection each, claiming them all in one transaction and
    recording each endpoint's in one more; how many were sent. The
    batches stop at the attempt timeout (the rest go back to the queue, a batch per endpoint),
    so no claim outlives its lease."""
    claimed = claim_first_attempts(batches)
    endpoint_ids = [endpoint_id for endpoint_id, ids in claimed.items() if ids]
    if not endpoint_ids:
        return 0
    endpoints = Endpoint.objects.in_bulk(endpoint_ids)  # one removed meanwhile: its deliveries went with it
    by_endpoint: dict[int, list[Delivery]] = {}
    for delivery in Delivery.objects.filter(
        endpoint_id__in=list(endpoints),
        pk__in=[delivery_id for ids in claimed.values() for delivery_id in ids],
    ).order_by("seq"):
        by_endpoint.setdefault(delivery.endpoint_id, []).append(delivery)
    disabled = [endpoint_id for endpoint_id, endpoint in endpoints.items() if not endpoint.enabled]
    if disabled:
        Delivery.objects.filter(
            endpoint_id__in=disabled, pk__in=[d for e in disabled for d in claimed[e]]
        ).update(state=DeliveryState.FAILED)
    budget_ends = time.monotonic() + settings.WEBHOOK_TIMEOUT_SECONDS
    results: dict[int, list[tuple[Delivery, Outcome, datetime]]] = {}
    for endpoint_id in endpoint_ids:
        endpoint = endpoints.get(endpoint_id)
        if endpoint is None or not endpoint.enabled:
            continue
        deliveries = by_endpoint.get(endpoint_id, [])
        sent = results.setdefault(endpoint_id, [])
        session = Session(endpoint.url)  # one kept-alive connection per endpoint
        try:
            for index, delivery in enumerate(deliveries):
                out_of_time = time.monotonic() >= budget_ends and any(results.values())
                if out_of_time or (sent and sent[-1][1].status == GONE):
                    release(endpoint_id, deliveries[index:])
                    break
                started_at = timezone.now()
                sent.append((delivery, send(endpoint, delivery, started_at, session), started_at))
        finally:
            session.close()
    # A transaction per endpoint, not one for the lot: on SQLite a post waiting for the write
    # lock gets it between two of them (config/sqlite/writers.py: the senders' transactions
    # let the write path's go first), so what a post can wait for is one endpoint's batch.
    for endpoint_id in sorted(results):
        record(endpoint_id, results[endpoint_id])
    return sum(len(sent) for sent in results.values())


def release(endpoint_id: int, deliveries: list[Delivery]) -> None:
    """Give claimed, unsent first attempts back to the queue, as a new batch."""
    with transaction.atomic():
        ids = [
            delivery.pk
            for delivery in deliveries
            if Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING, attempts=1).update(
                attempts=0
            )
        ]
        if ids:
            enqueue_batch(endpoint_id, ids)


def send(
    endpoint: Endpoint, delivery: Delivery, started_at: datetime, session: Session | None = None
) -> Outcome:
    body = delivery.payload.encode()
    headers = signed_headers(
        secrets_in_force(endpoint, started_at), delivery.message_id, int(time.time()), body
    )
    return session.post(body, headers) if session is not None else post(endpoint.url, body, headers)


def record(endpoint_id: int, results: list[tuple[Delivery, Outcome, datetime]]) -> None:
    """Log the attempts; then each delivered, retried later or given up, and the endpoint's
    failure streak updated (or the endpoint disabled), in one transaction."""
    if not results:
        return
    now = timezone.now()
    with bookkeeping():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        Attempt.objects.bulk_create(
            Attempt(
                delivery=delivery,
                number=delivery.attempts,
                started_at=started_at,
                status=outcome.status,
                error=outcome.error,
                latency_ms=outcome.latency_ms,
                excerpt=outcome.excerpt,
            )
            for delivery, outcome, started_at in results
        )
        for delivery, outcome, started_at in results:
            _settle(endpoint, delivery, outcome, started_at, now)
        endpoint.save(
            update_fields=["failure_streak", "failing_since", "enabled", "disabled_reason", "disabled_at"]
        )
        # One UPDATE per distinct outcome (usually one: every attempt answered 200), where a
        # bulk_update builds a CASE per row and field (a tenth of a sender's time, measured).
        alike: dict[tuple[object, ...], list[int]] = {}
        for delivery, _, _ in results:
            fields = (delivery.state, delivery.delivered_at, delivery.last_status, delivery.next_attempt_at)
            alike.setdefault(fields, []).append(delivery.pk)
        for (state, delivered_at, last_status, next_attempt_at), ids in alike.items():
            Delivery.objects.filter(pk__in=ids).update(
                state=state,
                delivered_at=delivered_at,
                last_status=last_status,
                next_attempt_at=next_attempt_at,
            )


def _settle(
    endpoint: Endpoint, delivery: Delivery, outcome: Outcome, started_at: datetime, now: datetime
) -> None:
    """One attempt's consequences: delivered, or the next attempt queued, or given up."""
    status = outcome.status
    delivery.last_status = status
    if status is not None and 200 <= status < 300:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = now
        endpoint.failure_streak = 0
        endpoint.failing_since = None
        return
    endpoint.failure_streak += 1
    endpoint.failing_since = endpoint.failing_since or started_at
    if status == GONE:
        disable(endpoint, DisabledReason.GONE, f"The receiver answered {GONE} Gone.")
    elif endpoint.enabled and now - endpoint.failing_since >= settings.WEBHOOK_DISABLE_AFTER:
        disable(endpoint, DisabledReason.FAILING, f"Every delivery failed since {endpoint.failing_since}.")
    delay = retry_delay(delivery.attempts, status, outcome.retry_after, now) if endpoint.enabled else None
    if delay is None:
        delivery.state = DeliveryState.FAILED
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        enqueue_delivery(delivery.pk, delivery.attempts, run_after=delivery.next_attempt_at)


def disable(endpoint: Endpoint, reason: DisabledReason, why: str) -> None:
    """Turn the endpoint off and say so in the room's audit log (the moderator's page shows it)."""
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = timezone.now()
    audit(
        endpoint.room, AnonymousUser(), "webhook_disabled", reason=why, endpoint=endpoint.pk, url=endpoint.url
    )
    logger.warning("webhook endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, why)


def recover_stuck() -> int:
    """Queue again the pending deliveries whose attempt was claimed or due long ago (the worker
    that claimed it stopped mid-attempt, or its task was lost); how many. A duplicate task is
    harmless: only one worker can claim each attempt."""
    overdue = timezone.now() - timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS) - LEASE_GRACE
    stuck = list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lt=overdue)
        .order_by("next_attempt_at")
        .values_list("pk", "attempts")[:RECOVER_BATCH]
    )
    with transaction.atomic():
        for delivery_id, attempts in stuck:
            enqueue_delivery(delivery_id, attempts)
            Delivery.objects.filter(pk=delivery_id, attempts=attempts).update(next_attempt_at=timezone.now())
    return len(stuck)


def prune() -> int:
    """Delete finished task rows older than a day and finished deliveries (with their attempts)
    older than WEBHOOK_LOG_DAYS, a batch of each per call; how many rows."""
    now = timezone.now()
    finished_tasks = DBTaskResult.objects.filter(
        queue_name=QUEUE, status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=now - TASKS_KEPT
    )
    old_deliveries = Delivery.objects.filter(
        state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED],
        created_at__lt=now - timedelta(days=settings.WEBHOOK_LOG_DAYS),
    )
    deleted = 0
    for rows in (finished_tasks, old_deliveries):
        ids = list(rows.values_list("pk", flat=True)[:PRUNE_BATCH])
        if ids:
            deleted += rows.model.objects.filter(pk__in=ids).delete()[0]
    return deleted
