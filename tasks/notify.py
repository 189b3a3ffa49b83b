"""Delivery of outbox notifications, and the sweep that re-enqueues whatever is still pending."""
from __future__ import annotations

from rq import Retry, get_current_job

from app.core import uow
from app.notifications import delivery
from app.notifications.service import BATCH_SIZE
from tasks import QUEUE_NOTIFY, job

# Transient WeChat failures (-1, 45009, timeouts, 5xx) are retried by rq with exponential backoff.
RETRY = Retry(max=len(delivery.BACKOFF), interval=list(delivery.BACKOFF))


class TransientDeliveryError(Exception):
    """Raised after committing a batch so that rq retries the rows WeChat could not take yet."""


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
    """Re-enqueue rows still pending after ~30 s: a lost enqueue, a crash, a missed retry lose nothing."""
    from app.core.uow import after_commit

    delivery.give_up_in_flight()
    ids = delivery.claim_for_sweep()
    for start in range(0, len(ids), BATCH_SIZE):
        after_commit(deliver_batch, ids[start:start + BATCH_SIZE], queue_name=QUEUE_NOTIFY, retry=RETRY)
    return len(ids)
