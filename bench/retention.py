"""How fast retention works off a county's backlog: ended cases (with their timelines), wishes and
message threads dated years back, handled the way `flask apply-retention` does it.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<a scratch database> \
        .venv/bin/python bench/retention.py --cases 200000

The database's schema is dropped and rebuilt: give it a scratch database.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.areas.models import Place  # noqa: E402
from app.cases.models import Case, Category  # noqa: E402
from app.contact.models import Message, MessageThread  # noqa: E402
from app.core import uow  # noqa: E402
from app.core.time import utcnow  # noqa: E402
from app.core.timeline import TimelineEvent  # noqa: E402
from app.demo import seed_demo  # noqa: E402
from app.extensions import db  # noqa: E402
from app.privacy import retention  # noqa: E402
from app.wishes.models import Wish  # noqa: E402

CHUNK = 10_000


def load(cases: int) -> None:
    place = db.session.scalar(select(Place).order_by(Place.id))
    category = db.session.scalar(select(Category).order_by(Category.id))
    community = place.area_path.rstrip("/").rsplit("/", 1)[0] + "/"
    old = utcnow() - timedelta(days=365 * 5)
    statuses = ("closed", "rejected", "withdrawn")
    user_ids = [row[0] for row in db.session.execute(text("SELECT id FROM users ORDER BY id LIMIT 50"))]
    first_case = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
    for start in range(0, cases, CHUNK):
        ids = range(first_case + start, first_case + min(start + CHUNK, cases))
        db.session.execute(insert(Case), [{
            "id": i, "tracking_no": f"GZOLD{i:09d}", "place_id": place.id, "area_path": place.area_path,
            "category_id": category.id, "description": "历史事件", "photos": [], "anonymous": False,
            "reporter_id": user_ids[i % len(user_ids)], "status": statuses[i % 3], "closed_at": old,
            "created_at": old, "version": 1} for i in ids])
        db.session.execute(insert(TimelineEvent), [{
            "subject_type": "case", "subject_id": i, "actor_id": user_ids[i % len(user_ids)] if k == 0 else None,
            "actor_role": "resident" if k == 0 else "system", "action": "report" if k == 0 else "close",
            "from_state": None, "to_state": statuses[i % 3], "created_at": old} for i in ids for k in (0, 1, 2)])
        db.session.execute(insert(Wish), [{
            "title": "旧心愿", "category": "daily", "desired_date": old.date(), "requester_id": user_ids[i % len(user_ids)],
            "phone_encrypted": None, "address_encrypted": None, "community_id": place.grid_id, "area_path": community,
            "public_title": "旧心愿", "status": "confirmed", "confirmed_at": old, "created_at": old, "version": 1}
            for i in ids if i % 2 == 0])
        threads = db.session.execute(insert(MessageThread).returning(MessageThread.id), [{
            "place_id": place.id, "area_path": place.area_path, "resident_id": user_ids[i % len(user_ids)],
            "to_role": "grid_worker", "last_message_at": old, "created_at": old} for i in ids if i % 4 == 0]).scalars()
        db.session.execute(insert(Message), [{"thread_id": t, "author_id": user_ids[0], "body": "旧留言",
                                              "created_at": old} for t in threads])
        uow.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()
        db.create_all()
        seed_demo(history=False)
        uow.commit()
        started = time.monotonic()
        load(args.cases)
        print(f"loaded {args.cases} ended cases (3 timeline events each), {args.cases // 2} wishes, "
              f"{args.cases // 4} message threads in {time.monotonic() - started:.1f} s")
        totals: dict[str, int] = {}
        started = time.monotonic()
        rounds = 0
        while True:
            report = retention.run(budget_seconds=10)
            uow.commit()
            rounds += 1
            for kind, count in report["handled"].items():
                totals[kind] = totals.get(kind, 0) + count
            if report["finished"]:
                break
        seconds = time.monotonic() - started
        handled = sum(totals.values())
        print(f"retention: {handled} records in {seconds:.1f} s over {rounds} transactions "
              f"({handled / seconds:,.0f} records a second): {totals}")


if __name__ == "__main__":
    main()
