"""Delivering outbox rows: lock them, pick a channel, spend quota, call WeChat on a bounded pool.

Rows are taken in one of two ways. The pump (`tasks.notify.pump_outbox`, queued once per unit
of work that wrote notifications, and coalesced across them) takes the next fresh rows:
pending, not held by a retry or a sweep, oldest first, `BATCH_SIZE` at a time. The sweep and
the retries of transient failures name their rows by id (`tasks.notify.deliver_batch`).

Exactly once: a row is handled only while its status is `pending`, under a row lock
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), so a job that runs
twice, two jobs holding the same id, or two pumps running at once, send it once: concurrent
pumps skip each other's locked rows and take disjoint ones. Quota units are taken before the
calls, for the whole batch, by one conditional UPDATE over rows locked in a fixed order,
and a unit is given back if WeChat did not take the message.

A crash spends no consent for nothing. A batch commits its rows as `taken` (by this process)
with their quota units, then starts the WeChat calls a wave at a time on a bounded pool,
committing each wave's rows as `sending` just before their calls start. If the process dies,
`recover_abandoned` (run when a worker starts, and by every sweep) puts its `taken` rows back
to pending with their units, at once when the dead process ran on this host and otherwise
after NOTIFY_IN_FLIGHT_SECONDS; its `sending` rows become `unknown`: WeChat may have taken
them, so they are never sent again, and they are counted apart (`delivery_stats`).
Every database write stays on the calling thread.
"""
from __future__ import annotations

import functools
import logging
import os
import socket
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import ARRAY, Integer, String, any_, bindparam, exists, func, insert, select, tuple_, update

from app.accounts.models import User
from app.core.time import utcnow
from app.extensions import db
from app.notifications import templates
from app.notifications.models import (
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    TAKEN,
    UNKNOWN,
    DeliveryLog,
    Notification,
    OfficialAccountFollower,
    PeriodicRun,
    SubscriptionQuota,
)
from app.wechat.gateway import QUOTA_ERROR, WeChatError, get_wechat

log = logging.getLogger("gongzhi.notifications")

# rq's Retry intervals for transient failures; the row fails for good after the last one.
BACKOFF = (5, 30, 120, 600, 1800)
MAX_ATTEMPTS = len(BACKOFF) + 1
# The sweep leaves a row alone this long past its rq retry, and this long after re-enqueueing it.
RETRY_SLACK = timedelta(seconds=60)
REQUEUE_HOLD = timedelta(seconds=120)
SWEEP_MIN_AGE = timedelta(seconds=30)

SUBSCRIBE, OFFICIAL_ACCOUNT, CONSOLE, INBOX = "subscribe", "official", "console", "inbox"


@dataclass
class Attempt:
    """One WeChat call planned for one row."""

    row: Notification
    channel: str
    template_key: str
    send: object  # () -> dict, run on the pool
    quota_user: int | None = None
    result: dict | None = None
    error: WeChatError | None = None


@dataclass
class Outcome:
    taken: int = 0  # rows locked for this delivery (the pump's "was the batch full?")
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retry: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "skipped": self.skipped, "failed": self.failed, "retry": self.retry}


def deliver(notification_ids: list[int] | None = None, *, fresh: int = 0,
            on_full: Callable[[], object] | None = None) -> Outcome:
    """Deliver the rows among `notification_ids` still pending or, with `fresh=n` and no ids, the
    next n fresh rows (see `_lock_pending`); flush, never commit.

    `on_full` is called as soon as `fresh` rows are locked when that is a full batch: more may be
    waiting, and whoever called can wake more help (the pump nudges a second worker).
    """
    outcome = Outcome()
    rows = _lock_pending(notification_ids, fresh=fresh)
    outcome.taken = len(rows)
    if not rows:
        return outcome
    if notification_ids is None and on_full is not None and len(rows) == fresh:
        on_full()
    gateway = get_wechat()
    users = {u.id: u for u in db.session.scalars(select(User).where(_among(User.id, {r.user_id for r in rows})))}
    followers = _followers(gateway, users.values())
    planned = [(row, templates.template_for(row.kind)) for row in rows]
    quota = Counter() if gateway.console else _take_quotas(Counter(
        (row.user_id, template.key) for row, template in planned if _openid(users.get(row.user_id))))
    attempts = []
    for row, template in planned:
        attempt = _plan(gateway, row, template, users.get(row.user_id), followers, quota, outcome)
        if attempt is not None:
            attempts.append(attempt)
    _take(attempts)
    _run_all(attempts, current_app.config.get("NOTIFY_POOL_SIZE", 16),
             lambda attempt: _record(attempt, utcnow(), outcome))
    db.session.flush()
    return outcome


# -- who took a row ---------------------------------------------------------------------------

def _process_start(pid: int) -> str | None:
    """When the process started (Linux: clock ticks since boot), so a reused pid is not mistaken for it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@functools.cache
def _taker(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or '-'}"[:64]


def this_process() -> str:
    """"host:pid:start" of the running process (recomputed after a fork)."""
    return _taker(os.getpid())


def _dead(taker: str | None) -> bool:
    """Whether the process that took a row is certainly gone: it ran on this host and no longer runs.
    A process on another host is never judged dead here (NOTIFY_IN_FLIGHT_SECONDS decides)."""
    if not taker:
        return True
    parts = taker.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid, start = parts[0], int(parts[1]), parts[2]
    if not socket.gethostname().startswith(host) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive: another user's process
    now_start = _process_start(pid)
    return now_start is not None and start not in ("-", now_start)  # the pid was reused


# -- taking rows and starting their calls -----------------------------------------------------

def _commit_keeping_rows() -> None:
    """Commit without expiring the rows in hand (they would be read back one query each)."""
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def _take(attempts: list[Attempt]) -> None:
    """Commit the rows as `taken` by this process, with the quota units taken for them.

    This is the one job that commits several times, on purpose: WeChat cannot recognise a
    repeated message, so what a killed worker leaves behind must say which calls may have
    started (`sending`, committed per wave in `_run_all`) and which surely did not (`taken`).
    """
    if not attempts:
        return
    until = utcnow() + timedelta(seconds=current_app.config["NOTIFY_IN_FLIGHT_SECONDS"])
    me = this_process()
    for attempt in attempts:
        row = attempt.row
        row.status, row.channel, row.taken_by = TAKEN, attempt.channel, me
        _log(row, attempt.channel, TAKEN, attempt.template_key, None, None, until)
    _commit_keeping_rows()


def _start(wave: list[Attempt]) -> None:
    """Commit a wave's rows as `sending`: their calls start right after this."""
    for attempt in wave:
        attempt.row.status = SENDING
    _commit_keeping_rows()


def recover_abandoned(limit: int = 5000) -> dict:
    """Rows left `taken` or `sending` by a delivery that died.

    A dead process's rows (one that ran on this host and is gone), or any row past its
    NOTIFY_IN_FLIGHT_SECONDS: `taken` rows go back to pending at once, their quota unit given
    back (no call was started); `sending` rows become `unknown`, never sent again (WeChat may
    have taken them). They stay in the user's inbox either way.
    """
    now = utcnow()
    in_flight = exists().where(DeliveryLog.notification_id == Notification.id,
                               DeliveryLog.outcome.in_((TAKEN, SENDING)), DeliveryLog.retry_at > now)
    rows = list(db.session.scalars(
        select(Notification).where(Notification.status.in_((TAKEN, SENDING)))
        .order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)))
    live = set(db.session.scalars(select(Notification.id).where(
        _among(Notification.id, [r.id for r in rows]), in_flight))) if rows else set()
    released = unknown = 0
    dead: dict[str | None, bool] = {}
    for row in rows:
        if row.taken_by not in dead:
            dead[row.taken_by] = _dead(row.taken_by)
        if row.id in live and not dead[row.taken_by]:
            continue
        if row.status == TAKEN:
            if row.channel == SUBSCRIBE:
                template = templates.template_for(row.kind)
                _set_quota(row.user_id, template.key, give_back=True)
            row.status, row.taken_by = PENDING, None
            _log(row, row.channel or SUBSCRIBE, "released", None, None, "投递进程中断，发送前放回待发", None)
            released += 1
        else:
            row.status, row.taken_by = UNKNOWN, None
            row.error = "发送结果未知：投递进程在发送途中中断，为避免重复发送不再重试（站内信已保留）"
            _log(row, row.channel or SUBSCRIBE, UNKNOWN, None, None, row.error, None)
            unknown += 1
    db.session.flush()
    return {"released": released, "unknown": unknown}


def _lock_pending(ids: list[int] | None, *, fresh: int = 0) -> list[Notification]:
    """Lock, in one statement, the rows among `ids` still pending, or (ids=None) the `fresh` oldest
    pending rows that no retry or sweep holds. Rows another transaction has locked are skipped
    (PostgreSQL), so two jobs running at once take disjoint rows."""
    stmt = select(Notification).where(Notification.status == PENDING)
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(_among(Notification.id, ids))
    elif fresh > 0:
        # Held rows belong to the deliver_batch job or the retry that holds them (and would come
        # straight back to a pump that retried them, were they not excluded).
        stmt = stmt.where(~_held(utcnow())).limit(fresh)
    else:
        return []
    return list(db.session.scalars(stmt.order_by(Notification.id).with_for_update(skip_locked=True)))


def _held(now: datetime):
    """A row held off until a later time: a retry that is not due yet, or a batch the sweep re-enqueued.
    (`taken`/`sending` entries are the in-flight marks that `recover_abandoned` reads, not holds.)"""
    return exists().where(DeliveryLog.notification_id == Notification.id, DeliveryLog.retry_at > now,
                          DeliveryLog.outcome.not_in((TAKEN, SENDING)))


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _among(column, values):
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter however many values."""
    values = list(values)
    if _postgres():
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def _followers(gateway, users) -> dict[str, str]:
    if not gateway.official_account:
        return {}
    unionids = {u.unionid for u in users if u.unionid}
    if not unionids:
        return {}
    return dict(db.session.execute(
        select(OfficialAccountFollower.unionid, OfficialAccountFollower.oa_openid)
        .where(OfficialAccountFollower.unionid.in_(unionids))).all())


def _openid(user: User | None) -> str | None:
    return user.openid if user is not None and user.is_active else None


def _plan(gateway, row: Notification, template, user: User | None, followers: dict, quota: Counter,
          outcome: Outcome) -> Attempt | None:
    data = templates.render(template, row)
    openid = _openid(user)
    if gateway.console:
        gateway.send_subscribe(openid or f"user:{row.user_id}", templates.subscribe_template_id(template.key),
                               data, row.page)
        _finish(row, SKIPPED, CONSOLE, template.key, outcome, error="控制台模式：未发送，仅写入日志")
        return None
    reasons = []
    if openid:
        if quota[(row.user_id, template.key)] > 0:
            quota[(row.user_id, template.key)] -= 1
            template_id = templates.subscribe_template_id(template.key)
            return Attempt(row, SUBSCRIBE, template.key, quota_user=row.user_id,
                           send=lambda: gateway.send_subscribe(openid, template_id, data, row.page))
        reasons.append(f"无订阅额度（{template.key}）")
    else:
        reasons.append("未绑定小程序账号")
    oa_openid = followers.get(user.unionid) if user is not None and user.unionid else None
    oa_template_id = templates.oa_template_id(template.key)
    if gateway.official_account and oa_openid and oa_template_id:
        return Attempt(row, OFFICIAL_ACCOUNT, template.key,
                       send=lambda: gateway.send_template(oa_openid, oa_template_id, data, row.page))
    _finish(row, SKIPPED, SUBSCRIBE if openid else INBOX, template.key, outcome, error="；".join(reasons))
    return None


def _take_quotas(wanted: Counter) -> Counter:
    """Take up to the wanted units of quota per (user, template key); return the units taken."""
    if not wanted:
        return Counter()
    pairs = sorted(wanted)
    key = tuple_(SubscriptionQuota.user_id, SubscriptionQuota.template_key)
    if _postgres():
        # Two array parameters instead of 2 × N placeholders, which psycopg is slow to parse.
        wanted_rows = func.unnest(bindparam("quota_users", [p[0] for p in pairs], type_=ARRAY(Integer)),
                                  bindparam("quota_keys", [p[1] for p in pairs], type_=ARRAY(String))
                                  ).table_valued("user_id", "template_key").render_derived()
        among = key.in_(select(wanted_rows.c.user_id, wanted_rows.c.template_key))
    else:
        among = key.in_(pairs)
    # Lock in one global order first, so concurrent jobs wait for each other instead of deadlocking.
    db.session.execute(select(SubscriptionQuota.id).where(among, SubscriptionQuota.remaining > 0)
                       .order_by(SubscriptionQuota.user_id, SubscriptionQuota.template_key).with_for_update())
    taken = Counter(tuple(r) for r in db.session.execute(
        update(SubscriptionQuota).where(among, SubscriptionQuota.remaining > 0)
        .values(remaining=SubscriptionQuota.remaining - 1)
        .returning(SubscriptionQuota.user_id, SubscriptionQuota.template_key)
        .execution_options(synchronize_session=False)))
    for pair in list(taken):  # the rare user with several messages of one template in a batch
        for _ in range(wanted[pair] - 1):
            if not _take_quota(*pair):
                break
            taken[pair] += 1
    return taken


def _take_quota(user_id: int, key: str) -> bool:
    result = db.session.execute(
        update(SubscriptionQuota)
        .where(SubscriptionQuota.user_id == user_id, SubscriptionQuota.template_key == key,
               SubscriptionQuota.remaining > 0)
        .values(remaining=SubscriptionQuota.remaining - 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _set_quota(user_id: int, key: str, *, give_back: bool) -> None:
    value = SubscriptionQuota.remaining + 1 if give_back else 0
    db.session.execute(
        update(SubscriptionQuota)
        .where(SubscriptionQuota.user_id == user_id, SubscriptionQuota.template_key == key)
        .values(remaining=value).execution_options(synchronize_session=False))


def _run_all(attempts: list[Attempt], pool_size: int, record: Callable[[Attempt], None]) -> None:
    """Run the calls on a pool of `pool_size`, a wave at a time, and `record` each as it ends.

    A wave's rows are committed as `sending` just before their calls start, together with the
    outcomes recorded since the previous wave, so at most about a pool's worth of rows is ever
    `sending` in the database: the rest are `taken` (safe to put back if this process dies)
    or already settled."""
    if not attempts:
        return
    size = max(1, min(pool_size, len(attempts)))
    refill = max(1, size // 4)  # start calls a few at a time: one commit per wave, not per call
    waiting, running = deque(attempts), {}
    with ThreadPoolExecutor(max_workers=size) as pool:
        while waiting or running:
            free = size - len(running)
            if waiting and (free >= refill or not running):
                wave = [waiting.popleft() for _ in range(min(free, len(waiting)))]
                _start(wave)
                running.update((pool.submit(_run_one, attempt), attempt) for attempt in wave)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                record(running.pop(future))


def _run_one(attempt: Attempt) -> None:
    try:
        attempt.result = attempt.send()
    except WeChatError as exc:
        attempt.error = exc
    except Exception as exc:  # noqa: BLE001 - e.g. Redis holding the token went away: try again later
        log.exception("notification %s: unexpected delivery error", attempt.row.id)
        attempt.error = WeChatError(None, f"{exc.__class__.__name__}: {exc}", transient=True)


def _record(attempt: Attempt, now: datetime, outcome: Outcome) -> None:
    row, error = attempt.row, attempt.error
    row.attempts += 1
    row.taken_by = None
    if error is None:
        _finish(row, SENT, attempt.channel, attempt.template_key, outcome)
        row.sent_at = now
        return
    if attempt.quota_user is not None:
        # 43101: the user refused or has nothing left, whatever we counted. Otherwise WeChat kept nothing.
        _set_quota(attempt.quota_user, attempt.template_key, give_back=error.errcode != QUOTA_ERROR)
    if error.transient and row.attempts < MAX_ATTEMPTS:
        row.status = PENDING
        retry_at = now + timedelta(seconds=BACKOFF[min(row.attempts, len(BACKOFF)) - 1]) + RETRY_SLACK
        row.errcode, row.error, row.channel = error.errcode, error.errmsg[:255], attempt.channel
        _log(row, attempt.channel, "retry", attempt.template_key, error.errcode, error.errmsg, retry_at)
        outcome.retry.append(row.id)
        return
    _finish(row, FAILED, attempt.channel, attempt.template_key, outcome, errcode=error.errcode,
            error=error.errmsg)


def _finish(row: Notification, status: str, channel: str, template_key: str | None, outcome: Outcome, *,
            errcode: int | None = None, error: str | None = None) -> None:
    row.status, row.channel, row.errcode = status, channel, errcode
    row.error = error[:255] if error else None
    setattr(outcome, status, getattr(outcome, status) + 1)
    _log(row, channel, status, template_key, errcode, error, None)


def _log(row, channel, outcome, template_key, errcode, error, retry_at) -> None:
    db.session.add(DeliveryLog(notification_id=row.id, channel=channel, outcome=outcome,
                               template_key=template_key, errcode=errcode,
                               error=error[:255] if error else None, retry_at=retry_at))


def fresh_waiting() -> bool:
    """Whether a pending row waits that no retry or sweep holds: what a pump would take now."""
    now = utcnow()
    return db.session.scalar(select(exists().where(Notification.status == PENDING, ~_held(now)))) or False


def claim_for_sweep(limit: int = 5000) -> list[int]:
    """Ids of rows left pending (a lost enqueue, a crash, a missed retry), held for a while."""
    now = utcnow()
    ids = list(db.session.scalars(
        select(Notification.id)
        .where(Notification.status == PENDING, Notification.created_at <= now - SWEEP_MIN_AGE, ~_held(now))
        .order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)))
    if ids:
        db.session.execute(insert(DeliveryLog), [
            {"notification_id": i, "channel": "outbox", "outcome": "requeued", "retry_at": now + REQUEUE_HOLD,
             "created_at": now} for i in ids])
    return ids


# -- for operators ----------------------------------------------------------------------------

def delivery_stats(*, by_status: bool = False) -> dict:
    """The outbox as an operator watches it: the age of the oldest pending row, rows in flight,
    rows stuck in flight (their delivery died and nothing has settled them yet), and rows whose
    delivery is unknown. Index-only reads, cheap enough for /healthz; `by_status` adds a count of
    every status (a scan of the table: for `flask doctor`)."""
    now = utcnow()
    oldest = db.session.scalar(select(Notification.created_at).where(Notification.status == PENDING)
                               .order_by(Notification.id).limit(1))
    in_flight = dict(db.session.execute(
        select(Notification.status, func.count()).where(Notification.status.in_((TAKEN, SENDING, UNKNOWN)))
        .group_by(Notification.status)).all())
    stuck = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.status.in_((TAKEN, SENDING)),
        ~exists().where(DeliveryLog.notification_id == Notification.id,
                        DeliveryLog.outcome.in_((TAKEN, SENDING)), DeliveryLog.retry_at > now)))
    stats = {
        "oldest_pending_seconds": max(0, int((now - oldest).total_seconds())) if oldest else None,
        "taken": in_flight.get(TAKEN, 0),
        "sending": in_flight.get(SENDING, 0),
        "stuck_in_flight": stuck or 0,
        "unknown": in_flight.get(UNKNOWN, 0),
    }
    if by_status:
        counts = dict(db.session.execute(select(Notification.status, func.count())
                                         .group_by(Notification.status)).all())
        stats["by_status"] = {status: counts.get(status, 0)
                              for status in (PENDING, TAKEN, SENDING, SENT, FAILED, UNKNOWN, SKIPPED)}
    return stats


def record_tick(name: str) -> None:
    """Note that the periodic job `name` ran now (read by /healthz and `flask doctor`)."""
    now = utcnow()
    updated = db.session.execute(update(PeriodicRun).where(PeriodicRun.name == name).values(ran_at=now)
                                 .execution_options(synchronize_session=False))
    if updated.rowcount == 0:
        db.session.add(PeriodicRun(name=name, ran_at=now))
    db.session.flush()


def last_tick(name: str) -> datetime | None:
    return db.session.scalar(select(PeriodicRun.ran_at).where(PeriodicRun.name == name))
