"""GET /healthz, and `flask doctor` for operators: the same report.

The answer is 503 only when the database is unreachable, since this node then cannot serve
anyone. Everything else (Redis away, the periodic jobs not ticking, notifications waiting
or stuck) makes it "degraded" with a 200 and a list of warnings, so that a load balancer
keeps sending residents to a node that can serve them while operators are alerted.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify
from sqlalchemy import text

from app.core import replica
from app.core.time import utcnow
from app.extensions import db, redis_connection
from app.notifications import delivery

# The outbox sweep runs every minute; without a tick for this long the periodic jobs are not running.
TICK_MAX_SECONDS = 120
# A pending notification older than this is late (the sweep re-enqueues rows after ~30 s).
PENDING_MAX_SECONDS = 300


def report() -> tuple[dict, bool]:
    """The health report, and whether the database answered."""
    app = current_app
    checks: dict[str, str] = {}
    warnings: list[str] = []
    body: dict = {"checks": checks}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        db.session.rollback()
        checks["database"] = f"error: {exc.__class__.__name__}"
        warnings.append("数据库无法连接。")
    if app.config.get("REDIS_URL"):
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {exc.__class__.__name__}"
            warnings.append("Redis 无法连接：通知暂存于发件箱，恢复后由定时清扫发出。")
    else:
        checks["redis"] = "not configured (jobs run inline)"
    checks["wechat"] = "console mode" if app.config["WECHAT_CONSOLE_MODE"] else "configured"
    replica_state = replica.state(fresh=True) if checks["database"] == "ok" else None
    if replica_state is None:
        checks["replica"] = "not configured" if not replica.configured() else "not checked (no database)"
    else:
        body["replica"] = replica_state.as_dict() | {"fallbacks": replica.fallbacks()}
        if replica_state.usable:
            checks["replica"] = f"ok (lag {replica_state.lag_seconds} s)"
        else:
            checks["replica"] = f"skipped: {replica_state.reason}"
            warnings.append(f"只读副本已停用，统计改从主库读取：{replica_state.reason}。")
        moved = replica.fallbacks()
        if moved:  # reads that lost the replica's connection mid-request and were answered by the primary
            checks["replica"] += (f"; {moved['count']} read(s) moved to the primary after losing the replica, "
                                  f"last at {moved['last_at']} ({moved['last_error']})")
    database_ok = checks["database"] == "ok"
    if database_ok:
        try:
            stats = delivery.delivery_stats()
            tick = delivery.last_tick("sweep_outbox")
        except Exception as exc:  # noqa: BLE001 - e.g. the schema is not migrated yet
            db.session.rollback()
            checks["outbox"] = f"error: {exc.__class__.__name__}"
            warnings.append("无法读取通知发件箱。")
        else:
            body["notifications"] = stats
            ago = int((utcnow() - tick).total_seconds()) if tick else None
            body["periodic"] = {"last_tick": tick.isoformat() if tick else None, "seconds_ago": ago,
                                "ok": ago is not None and ago <= TICK_MAX_SECONDS}
            if not body["periodic"]["ok"]:
                warnings.append("最近两分钟内没有定时任务运行（发件箱清扫）：请检查 cron 进程和 worker。")
            if (stats["oldest_pending_seconds"] or 0) > PENDING_MAX_SECONDS:
                warnings.append(f"最早的待发通知已等待 {stats['oldest_pending_seconds']} 秒。")
            if stats["stuck_in_flight"]:
                warnings.append(f"{stats['stuck_in_flight']} 条通知停在发送中，其投递进程可能已中断。")
    body["status"] = "ok" if not warnings else "degraded"
    body["warnings"] = warnings
    return body, database_ok


def register(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        body, database_ok = report()
        return jsonify(body), 200 if database_ok else 503
