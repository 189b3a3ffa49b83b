"""Delivery of outbox notifications: the coalesced pump, the batches retried by id, and the sweep.

- `pump_outbox` is what `notify()` queues, once per unit of work and coalesced across them
  (`app.jobs.dispatch(..., coalesce=PUMP)`): however many requests write notifications while one pump
  waits in the queue, that one pump delivers them all, oldest first, `BATCH_SIZE` at a time.
- `deliver_batch(ids)` delivers named rows: the retries of transient failures (after rq's
  backoff) and the rows the sweep re-enqueues.
- `sweep_outbox` re-enqueues rows still pending, so a lost enqueue, a crash or a Redis outage
  loses nothing.
"""
from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app
from rq import Retry, get_current_job

from app import jobs
from app.core import uow
from app.jobs import PUMP, PUMP_OUTBOX, QUEUE_NOTIFY
from app.notifications import delivery
from app.notifications.service import BATCH_SIZE
from tasks import job

# Transient WeChat failures (-1, 45009, timeouts, 5xx) are retried by rq with exponential backoff.
RETRY = Retry(max=len(delivery.BACKOFF), interval=list(delivery.BACKOFF))
# A pump's transient failures: the first retry is the delayed deliver_batch itself, rq's Retry
# the rest, so a row still gets delivery.MAX_ATTEMPTS attempts with the same backoff.
RETRY_AFTER_PUMP = Retry(max=len(delivery.BACKOFF) - 1, interval=list(delivery.BACKOFF[1:]))

# A pump hands over to a fresh job after this many batches, or once a batch ends past this many
# seconds (a slow WeChat: 200 calls on 16 threads with a 5 s timeout is ~65 s a batch), so that
# it never hogs a worker nor runs into rq's job timeout (180 s).
PUMP_BATCHES = 10
PUMP_SECONDS = 60


DELIVER_BATCH = "tasks.notify.deliver_batch"


class TransientDeliveryError(Exception):
    """Raised after committing a batch so that rq retries the rows WeChat could not take yet."""


@job
def pump_outbox() -> dict:
    """Deliver the fresh pending rows, a batch at a time, until none is left (or the pump's share is done).

    The nudge is released before any row is read: a row committed before that is seen by this
    pump's reads (READ COMMITTED: each statement sees what was committed before it began); a row
    committed after it finds the key free and queues the next pump. So no notification is left
    waiting on a pump that has already looked.

    On rq, the pump first lingers (NOTIFY_PUMP_LINGER_MS, 250 ms) with the nudge still held: the
    reports of a burst that arrive meanwhile queue nothing and go out with this pump. Without
    it an idle worker ran one pump per report, whose fixed cost was most of the report's
    (bench/RESULTS.md). Inline (no Redis) it does not wait.
    """
    linger = current_app.config["NOTIFY_PUMP_LINGER_MS"] / 1000
    if linger > 0 and get_current_job() is not None:
        time.sleep(linger)
    jobs.release_nudge(PUMP)
    total = {"batches": 0, "sent": 0, "skipped": 0, "failed": 0, "retry": 0}
    deadline = time.monotonic() + PUMP_SECONDS
    for batch in range(1, PUMP_BATCHES + 1):
        outcome = delivery.deliver(fresh=BATCH_SIZE, on_full=_nudge_now)
        if outcome.taken:
            uow.commit()  # each batch stands on its own
            if outcome.retry:
                _retry_later(outcome.retry)
            total["batches"] += 1
            for key in ("sent", "skipped", "failed"):
                total[key] += getattr(outcome, key)
            total["retry"] += len(outcome.retry)
        if outcome.taken < BATCH_SIZE:
            break  # nothing fresh is left
        if batch == PUMP_BATCHES or time.monotonic() > deadline:
            # More may be waiting: a new job carries on (inline: right after this one).
            jobs.after_commit_once(PUMP_OUTBOX, queue_name=QUEUE_NOTIFY, coalesce=PUMP)
            break
    return total


def _nudge_now() -> None:
    """A full batch was waiting: queue another pump now, so that a second worker joins in.

    Only on rq; inline, this pump's own loop carries on."""
    if not current_app.config.get("REDIS_URL"):
        return
    try:
        jobs.dispatch(PUMP_OUTBOX, queue_name=QUEUE_NOTIFY, coalesce=PUMP)
    except Exception:  # noqa: BLE001 - this pump carries on by itself
        current_app.logger.warning("could not queue a second pump", exc_info=True)


def _retry_later(notification_ids: list[int]) -> None:
    """Rows WeChat could not take yet, committed as pending with their retry time.

    The pump itself must not fail (rq would run the whole pump again, which skips held rows):
    a deliver_batch of these ids runs after the first backoff, and rq retries it over the
    rest. Inline (no Redis), or if Redis refuses, the rows wait for the sweep, as before.
    """
    if not current_app.config.get("REDIS_URL"):
        return
    try:
        jobs.queue(QUEUE_NOTIFY).enqueue_in(timedelta(seconds=delivery.BACKOFF[0]), DELIVER_BATCH, notification_ids,
                                       retry=RETRY_AFTER_PUMP)
    except Exception:  # noqa: BLE001 - committed as pending: the sweep re-enqueues them once they are due
        current_app.logger.warning("could not schedule the retry of %d notification(s); the sweep will",
                                   len(notification_ids), exc_info=True)


@job
def deliver_batch(notification_ids: list[int]) -> dict:
    """Deliver a batch. Rows already handled are left alone, so running it twice sends once."""
    return _deliver(notification_ids)


@job
def deliver(notification_id: int) -> dict:
    """Deliver one notification."""
    return _deliver([notification_id])


def _deliver(notification_ids: list[int]) -> dict:
    outcome = delivery.deliver(notification_ids)
    if outcome.retry and get_current_job() is not None:
        # Keep what went out: the retry only finds the rows still pending.
        uow.commit()
        raise TransientDeliveryError(f"{len(outcome.retry)} notification(s) to retry: {outcome.retry[:20]}")
    # Inline (no Redis): the rows stay pending with their retry time, and the sweep picks them up.
    return outcome.as_dict()


@job
def sweep_outbox() -> int:
    """Every minute: settle rows of dead deliveries, re-enqueue rows still pending after ~30 s (a lost
    enqueue, a crash, a missed retry lose nothing), and wake a pump for any fresher ones, so that
    what piled up during a Redis outage goes out at the first sweep after it, with no new traffic.
    It also records its tick (`periodic_runs`), which /healthz and `flask doctor` read."""
    delivery.record_tick("sweep_outbox")
    recovered = delivery.recover_abandoned()
    ids = delivery.claim_for_sweep()
    for start in range(0, len(ids), BATCH_SIZE):
        jobs.after_commit(DELIVER_BATCH, ids[start:start + BATCH_SIZE], queue_name=QUEUE_NOTIFY, retry=RETRY)
    if recovered["released"] or delivery.fresh_waiting():
        jobs.after_commit_once(PUMP_OUTBOX, queue_name=QUEUE_NOTIFY, coalesce=PUMP)
    return len(ids)


def recover_at_start() -> dict:
    """When a worker starts: what a killed worker left behind, at once.

    Its `taken` rows go back to pending (and a pump is queued for them), its `sending` rows
    become `unknown`, and the pump's coalescing flag it may have held is released (at worst
    one pump too many runs, and finds nothing). Never fails the worker's start.
    """
    try:
        result = delivery.recover_abandoned()
        jobs.release_nudge(PUMP)
        if result["released"]:
            jobs.after_commit_once(PUMP_OUTBOX, queue_name=QUEUE_NOTIFY, coalesce=PUMP)
        uow.commit()
        return result
    except Exception:  # noqa: BLE001 - the sweep does the same within a minute
        uow.rollback()
        current_app.logger.warning("could not recover abandoned deliveries at start", exc_info=True)
        return {"released": 0, "unknown": 0}
