"""Time the community dashboard (GET /mp/v1/admin/stats) over the bench database's 1,000,000 cases.

    .venv/bin/python bench/dashboard.py [--database-url URL] [--runs 30]

Run bench/run.py first: it leaves the `gongzhi_bench` database in place. Each run asks for a
different community (cold for that community), over the last 30 days and over a whole year.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/gongzhi_bench")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("RATELIMIT_ENABLED", "false")

    from datetime import date, timedelta

    from sqlalchemy import func, select

    from app import create_app
    from app.accounts.models import SYSTEM_ADMIN
    from app.areas.models import Area
    from app.cases.models import Case
    from app.core.scoping import Actor, Grant
    from app.extensions import db
    from app.stats.service import dashboard

    app = create_app()
    admin = Actor(user_id=None, grants=(Grant(role=SYSTEM_ADMIN, area_path="/"),))
    with app.app_context():
        total = db.session.scalar(select(func.count(Case.id)))
        communities = list(db.session.scalars(select(Area.id).where(Area.level == "community").order_by(Area.id)))
        newest = db.session.scalar(select(func.max(Case.created_at)))
        last_day = newest.date()
        results = {}
        spans = (("30 days", 29), ("365 days", 364), ("3 years (the longest range allowed)", 3 * 366 - 1))
        for label, days in spans:
            first_day = last_day - timedelta(days=days)
            timings, counts = [], []
            for run in range(args.runs):
                area_id = communities[run % len(communities)]
                started = time.perf_counter()
                figures = dashboard(admin, area_id, first_day, last_day)
                timings.append((time.perf_counter() - started) * 1000)
                counts.append(figures["cases"]["total"])
                db.session.rollback()
            timings.sort()
            p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
            results[label] = (statistics.median(timings), p95, statistics.mean(counts))
        db.session.remove()
    print(f"cases in the database: {total:,}; communities: {len(communities)}; newest case: {date.isoformat(last_day)}")
    for label, (median, p95, mean_cases) in results.items():
        print(f"community dashboard, {label}: median {median:.0f} ms, p95 {p95:.0f} ms "
              f"(about {mean_cases:,.0f} cases in range per community)")


if __name__ == "__main__":
    main()
