"""Time helpers: store aware UTC, show Asia/Shanghai, and a clock tests can move."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_offset = timedelta(0)


def utcnow() -> datetime:
    """The current time, aware and in UTC. Tests and the demo move it with `travel`."""
    return datetime.now(UTC) + _offset


def travel(delta: timedelta) -> None:
    """Move the clock forward (or back) for everything that calls utcnow()."""
    global _offset
    _offset += delta


def reset_clock() -> None:
    global _offset
    _offset = timedelta(0)


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def local_display(value: datetime | None) -> str:
    """`2026年11月21日 15:01`, the form WeChat's `time` fields and our pages use."""
    local = to_local(value)
    return "" if local is None else local.strftime("%Y年%m月%d日 %H:%M")


def local_today_start(now: datetime | None = None) -> datetime:
    local = to_local(now or utcnow())
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
