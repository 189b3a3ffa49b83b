"""Demo yearly service target: 东城社区 asks each in-service party member for at least four services this year."""
from __future__ import annotations

from app.accounts.service import actor_for
from app.records import targets


def seed_demo(*, areas, users, **_context) -> list[str]:
    east = areas["东城社区"]
    year = targets.this_year()
    if targets.target_for(east.id, year) is not None:
        return []
    targets.set_target(actor_for(users["east_admin"]), east.id, year=year, services=4)
    return [f"东城社区 {year} 年党员服务目标：每人至少 4 次"]
