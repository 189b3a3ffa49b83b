"""The demo's six months of history: every chart of the console has a shape, the street's rollups equal the
rows, and seeding again adds nothing."""
from datetime import timedelta

from sqlalchemy import func, select

from app.areas.models import Area
from app.cases.models import Case
from app.core.time import to_local, utcnow
from app.demo import seed_demo
from app.extensions import db
from app.stats import service as stats
from app.volunteering.models import ServiceHours


def _counts():
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_six_months_of_history_give_every_chart_a_shape_and_the_rollups_agree(app):
    before = db.session.scalar(select(func.count(Case.id)))
    seed_demo()
    added = db.session.scalar(select(func.count(Case.id))) - before
    assert added >= 80
    street = db.session.scalar(select(Area).where(Area.name == "沁河镇"))
    today = to_local(utcnow()).date()
    span = stats.period(today - timedelta(days=190), today)
    rows = stats.figures_for(street.path, span)
    cases = rows["cases"]
    assert len(cases["weekly_trend"]) >= 24 and max(w["count"] for w in cases["weekly_trend"]) >= 4
    assert cases["by_status"]["closed"] > cases["total"] / 2
    assert cases["overdue_rate"] and 0 < cases["overdue_rate"] < 0.3
    assert cases["reopen_rate"] and cases["satisfaction"]["rated"] > 30
    assert len(cases["by_grid"]) == 3 and len(cases["by_category"]) == 6
    assert len(rows["volunteering"]["hours_by_month"]) >= 6
    assert len(rows["wishes"]["top_members"]) >= 3 and len(rows["praise"]["most_praised"]) == 5
    assert rows["suggestions"]["total"] >= 8
    # The street's dashboard reads the rollups: they equal the rows.
    rolled = stats.figures_for(street.path, span, ("cases", "volunteering"), from_rollups=True)
    assert rolled["cases"]["total"] == cases["total"] and rolled["cases"]["by_status"] == cases["by_status"]
    assert rolled["cases"]["weekly_trend"] == cases["weekly_trend"]
    assert rolled["volunteering"]["hours_by_month"] == rows["volunteering"]["hours_by_month"]
    # History never reaches into the future, and seeding again adds nothing.
    assert db.session.scalar(select(func.max(Case.created_at))) <= utcnow()
    assert db.session.scalar(select(func.max(ServiceHours.served_on))) <= today
    counts = _counts()
    seed_demo()
    assert _counts() == counts
