"""Scan answers cached by scene, so a scan of a known code touches no database.

The scan is the hottest path in the product, and its answer changes only when a code, a
place or a contact changes. With REDIS_URL the cache is shared by every process (one GET),
otherwise it lives in this process. Entries expire after TTL seconds; the services that change
a code, a place or a contact forget the scenes they touch, in the request and again after
their commit, so a disabled code stops answering at once.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app

log = logging.getLogger("gongzhi.codes")

TTL = 60
PREFIX = "gongzhi:scan:"


class _Local:
    def __init__(self):
        self.lock = threading.Lock()
        self.items: dict[str, tuple[float, bytes]] = {}

    def get(self, scene: str) -> bytes | None:
        item = self.items.get(scene)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, scene: str, value: bytes) -> None:
        with self.lock:
            if len(self.items) > 10_000:
                self.items.clear()
            self.items[scene] = (time.monotonic() + TTL, value)

    def forget(self, scenes) -> None:
        with self.lock:
            for scene in scenes:
                self.items.pop(scene, None)


def _local() -> _Local:
    return current_app.extensions.setdefault("gongzhi.scan_cache", _Local())


def _redis():
    from tasks import redis_connection

    return redis_connection()


# One round trip for a cached scan: read the answer and, when there is one, count the scan
# under the code id the answer starts with.
_GET_AND_COUNT = """
local value = redis.call('GET', KEYS[1])
if value then
  local code_id = string.match(value, '^(%d+):')
  if code_id then redis.call('HINCRBY', KEYS[2], code_id, 1) end
end
return value
"""


def _script(redis):
    scripts = current_app.extensions.setdefault("gongzhi.scan_scripts", {})
    if id(redis) not in scripts:
        scripts[id(redis)] = redis.register_script(_GET_AND_COUNT)
    return scripts[id(redis)]


def get(scene: str, *, count: bool = False) -> tuple[int, bytes] | None:
    """(code id, JSON body) of a cached answer, or None; with `count`, a hit also counts the scan."""
    from app.codes import counter

    redis = _redis()
    if redis is None:
        value = _local().get(scene)
    else:
        from redis.exceptions import RedisError

        try:
            if count:
                value = _script(redis)(keys=[PREFIX + scene, counter.REDIS_KEY])
            else:
                value = redis.get(PREFIX + scene)
        except RedisError:
            return None  # the cache is an optimisation: answer from the database
    if not value:
        return None
    code_id, _, body = value.partition(b":")
    if count and redis is None:
        counter.record_scan(int(code_id))
    return int(code_id), body


def put(scene: str, code_id: int, body: bytes, *, count: bool = False) -> None:
    """Cache an answer; with `count`, count the scan too (in the same round trip to Redis)."""
    from app.codes import counter

    value = f"{code_id}:".encode() + body
    redis = _redis()
    if redis is None:
        _local().put(scene, value)
        if count:
            counter.record_scan(code_id)
        return
    from redis.exceptions import RedisError

    try:
        pipe = redis.pipeline(transaction=False)
        pipe.set(PREFIX + scene, value, ex=TTL)
        if count:
            pipe.hincrby(counter.REDIS_KEY, str(code_id), 1)
        pipe.execute()
    except RedisError as exc:
        log.warning("scan answer not cached%s: %s", " nor counted" if count else "", exc.__class__.__name__)


def forget(scenes) -> None:
    scenes = [s for s in scenes if s]
    if not scenes:
        return
    _local().forget(scenes)
    redis = _redis()
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            redis.delete(*(PREFIX + s for s in scenes))
        except RedisError as exc:
            log.warning("scan answers not forgotten (they expire in %s s): %s", TTL, exc.__class__.__name__)


def forget_after_commit(scenes) -> None:
    """Forget now, and again once the change is committed (a scan in between may have re-cached it)."""
    from app.core.uow import after_commit
    from tasks.codes import forget_scans

    scenes = sorted({s for s in scenes if s})
    if scenes:
        forget(scenes)
        after_commit(forget_scans, scenes)


def scenes_under(area_path: str) -> list[str]:
    from sqlalchemy import select

    from app.codes.models import Code
    from app.extensions import db

    return list(db.session.scalars(select(Code.scene).where(
        Code.area_path.startswith(area_path, autoescape=True), Code.active.is_(True))))
