"""Figures from the daily rollups equal the figures computed from the rows, on generated data,
before and after late changes (cases closed, rated, reopened and made overdue weeks later, wishes
claimed, hours approved and rejected, rows deleted), kept current only by the periodic job."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from app.accounts.models import User
from app.areas.models import Area, Place
from app.cases.models import Case, Category
from app.core.time import to_local
from app.extensions import db
from app.stats import rollups
from app.stats import service as stats
from app.stats.models import AreaRollup, CaseRollup, RollupDirty
from app.volunteering.models import ServiceHours
from app.wishes.models import Wish
from tasks.cases import sweep_deadlines
from tasks.stats import refresh_rollups

FIRST = date(2025, 1, 1)
DAYS = 90
STATUSES = ("submitted", "accepted", "dispatched", "handled", "closed", "rejected", "withdrawn")


def _moment(rng: random.Random, day_offset: int) -> datetime:
    # Around local midnight too: a case at 23:30 UTC belongs to the next local day.
    return datetime.combine(FIRST, datetime.min.time(), UTC) + timedelta(days=day_offset,
                                                                        minutes=rng.randrange(24 * 60))


@pytest.fixture
def world():
    places = list(db.session.scalars(select(Place).order_by(Place.id)))
    categories = list(db.session.scalars(select(Category).order_by(Category.id)))
    users = list(db.session.scalars(select(User).order_by(User.id).limit(5)))
    areas = {a.name: a for a in db.session.scalars(select(Area))}
    return places, categories, users, areas


def _generate(rng: random.Random, places, categories, users, n_cases=400, n_wishes=120, n_hours=150,
              prefix="GEN"):
    cases, wishes, entries = [], [], []
    for i in range(n_cases):
        place = rng.choice(places)
        created = _moment(rng, rng.randrange(DAYS))
        status = rng.choice(STATUSES)
        accepted = created + timedelta(hours=rng.uniform(0.1, 30)) if status not in ("submitted", "rejected") \
            else None
        closed = created + timedelta(hours=rng.uniform(1, 400)) if status == "closed" else None
        cases.append(Case(
            tracking_no=f"{prefix}{i:05d}", place_id=place.id, area_path=place.area_path,
            category_id=rng.choice(categories).id, description="生成", reporter_id=rng.choice(users).id,
            status=status, created_at=created, accepted_at=accepted, closed_at=closed,
            overdue=rng.random() < 0.2, reopen_count=rng.choice((0, 0, 0, 1, 2)),
            rating=rng.choice((None, 1, 2, 3, 4, 5)) if closed else None))
    for i in range(n_wishes):
        place = rng.choice(places)
        created = _moment(rng, rng.randrange(DAYS))
        claimed = created + timedelta(hours=rng.uniform(0.5, 200)) if rng.random() < 0.6 else None
        fulfilled = claimed + timedelta(hours=rng.uniform(1, 300)) if claimed and rng.random() < 0.6 else None
        wishes.append(Wish(
            title=f"心愿{i}", category="daily", desired_date=FIRST, requester_id=rng.choice(users).id,
            community_id=_community_id(place.area_path), area_path=place.area_path, public_title=f"心愿{i}",
            status="claimed" if claimed else "approved", created_at=created, claimed_at=claimed,
            fulfilled_at=fulfilled))
    for i in range(n_hours):
        place = rng.choice(places)
        entries.append(ServiceHours(
            user_id=users[i % len(users)].id, source_type="activity", source_id=(1 if prefix == "GEN" else 2) * 100_000 + i,
            hours=round(rng.uniform(0.5, 8), 1), area_path=place.area_path,
            served_on=FIRST + timedelta(days=rng.randrange(DAYS)),
            status=rng.choice(("approved", "approved", "pending", "rejected"))))
    db.session.add_all([*cases, *wishes, *entries])
    db.session.flush()
    return cases, wishes, entries


def _community_id(path: str) -> int:
    return int(path.strip("/").split("/")[2])  # 区县/街道/社区/网格 in the demo tree


def _raw(path: str, first: date, last: date) -> dict:
    """Figures computed straight from the rows, the way the dashboard does for a community."""
    span = stats.period(first, last)
    cases = stats.case_figures(path, span)
    wishes = stats.wish_figures(path, span)
    volunteering = stats.volunteering_figures(path, span)
    rows = list(db.session.scalars(select(Case).where(Case.area_path.startswith(path))))

    def local_day(moment):
        return to_local(moment).date()

    reported = [c for c in rows if first <= local_day(c.created_at) <= last]
    closed_here = [c for c in rows if c.closed_at and first <= local_day(c.closed_at) <= last]
    accepted = [c for c in reported if c.accepted_at]
    claimed = list(db.session.scalars(select(Wish).where(
        Wish.area_path.startswith(path), Wish.claimed_at >= span.start, Wish.claimed_at < span.end)))
    return {
        "cases": cases, "wishes": wishes, "volunteering": volunteering,
        "flow": {"in": len(reported), "out": len(closed_here),
                 "out_on_time": sum(1 for c in closed_here if not c.overdue)},
        "accept_mean": round(sum((c.accepted_at - c.created_at).total_seconds() / 3600 for c in accepted)
                             / len(accepted), 1) if accepted else None,
        "claim_mean": round(sum((w.claimed_at - w.created_at).total_seconds() / 3600 for w in claimed)
                            / len(claimed), 1) if claimed else None,
    }


def _by_community(path: str, first: date, last: date) -> dict[str, int]:
    names = {a.path: a.name for a in db.session.scalars(select(Area))}
    counts: Counter = Counter()
    for c in db.session.scalars(select(Case).where(Case.area_path.startswith(path))):
        if first <= to_local(c.created_at).date() <= last:
            community = "/".join(c.area_path.strip("/").split("/")[:3])
            counts[names[f"/{community}/"]] += 1
    return dict(counts)


def _assert_equal(path: str, first: date, last: date) -> None:
    raw = _raw(path, first, last)
    cases = rollups.case_figures(path, first, last)
    areas = rollups.area_figures(path, first, last)
    rc = raw["cases"]
    assert cases["total"] == rc["total"]
    assert cases["by_status"] == rc["by_status"]
    assert {i["category"]: i["count"] for i in cases["by_category"]} == \
        {i["category"]: i["count"] for i in rc["by_category"]}
    assert cases["weekly_trend"] == rc["weekly_trend"]
    assert cases["overdue_rate"] == rc["overdue_rate"]
    assert cases["reopen_rate"] == rc["reopen_rate"]
    assert cases["satisfaction"] == rc["satisfaction"]
    if db.session.scalar(select(Area.level).where(Area.path == path)) == "community":
        assert cases["by_community"] == [] and cases["by_grid"] == rc["by_grid"]
    else:
        assert {i["community"]: i["count"] for i in cases["by_community"]} == _by_community(path, first, last)
    assert cases["flow"] == raw["flow"]
    assert cases["hours_to_accept"]["mean"] == raw["accept_mean"]
    rw, rv = raw["wishes"], raw["volunteering"]
    assert (areas["posted"], areas["claimed"], areas["fulfilled"]) == (rw["posted"], rw["claimed"], rw["fulfilled"])
    assert areas["mean_hours_to_claim"] == raw["claim_mean"]
    assert areas["total_hours"] == rv["total_hours"]
    assert areas["hours_by_month"] == rv["hours_by_month"]


def _check_everywhere(areas) -> None:
    spans = [(FIRST, FIRST + timedelta(days=DAYS)), (FIRST + timedelta(days=10), FIRST + timedelta(days=40)),
             (FIRST + timedelta(days=33), FIRST + timedelta(days=33)),
             (date(2025, 1, 20), date(2025, 3, 10))]  # a day part, a whole month, a day part
    for name in ("沁源县", "沁河镇", "东城社区", "西园社区"):
        for first, last in spans:
            _assert_equal(areas[name].path, first, last)


def test_rollups_equal_the_rows_before_and_after_late_changes(world):
    places, categories, users, areas = world
    rng = random.Random(27)
    cases, wishes, entries = _generate(rng, places, categories, users)
    assert refresh_rollups() > 0  # the periodic job, as rq cron runs it
    assert db.session.scalar(select(db.func.count()).select_from(RollupDirty)) == 0
    _check_everywhere(areas)

    # Late changes, weeks after the days they belong to.
    for case in rng.sample(cases, 80):
        action = rng.choice(("close", "rate", "reopen", "reject", "move"))
        if action == "close" and case.closed_at is None:
            case.status, case.closed_at = "closed", case.created_at + timedelta(days=rng.randrange(1, 30))
        elif action == "rate" and case.closed_at is not None:
            case.rating = rng.choice((1, 3, 5))
        elif action == "reopen" and case.closed_at is not None:
            case.status, case.closed_at, case.reopen_count = "dispatched", None, case.reopen_count + 1
        elif action == "reject":
            case.status = "rejected"
        else:
            place = rng.choice(places)
            case.place_id, case.area_path = place.id, place.area_path
    for wish in rng.sample(wishes, 30):
        if wish.claimed_at is None:
            wish.claimed_at, wish.status = wish.created_at + timedelta(hours=5), "claimed"
        else:
            wish.fulfilled_at = wish.claimed_at + timedelta(days=3)
    for entry in rng.sample(entries, 40):
        entry.status = rng.choice(("approved", "rejected"))
        if rng.random() < 0.3:
            entry.served_on = entry.served_on + timedelta(days=5)
    for gone in rng.sample(entries, 5):
        db.session.delete(gone)
    db.session.flush()
    for case in rng.sample(cases, 10):
        case.created_at = case.created_at - timedelta(days=3)
    db.session.flush()
    assert db.session.scalar(select(db.func.count()).select_from(RollupDirty)) > 0
    refresh_rollups()
    _check_everywhere(areas)

    # On their own, so that no other change marks the same days: values set on expired rows without
    # being read first (their old days are known all the same), and rows deleted while expired.
    closed = [c for c in cases if c.closed_at is not None]
    db.session.expire_all()
    for case in closed[:10]:
        case.closed_at, case.status = None, "dispatched"
    for gone in [e for e in entries if inspect(e).persistent and e.status == "approved"][:3]:
        db.session.expire(gone)
        db.session.delete(gone)
    db.session.flush()
    refresh_rollups()
    _check_everywhere(areas)

    # The deadline sweep flips `overdue` with a bulk UPDATE that no flush sees: it marks the days itself.
    running = [c for c in cases if c.status in ("submitted", "accepted", "dispatched") and not c.overdue]
    for case in running[:15]:
        case.due_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.flush()
    refresh_rollups()
    assert sweep_deadlines()["overdue"] >= 15
    db.session.expire_all()
    refresh_rollups()
    _check_everywhere(areas)

    # A full rebuild gives the same rollups.
    before = rollups.case_figures(areas["沁源县"].path, FIRST, FIRST + timedelta(days=DAYS))
    rollups.rebuild_all()
    assert rollups.case_figures(areas["沁源县"].path, FIRST, FIRST + timedelta(days=DAYS)) == before
    _check_everywhere(areas)


def test_street_and_county_dashboards_read_rollups(world, login):
    places, categories, users, areas = world
    rng = random.Random(5)
    _generate(rng, places, categories, users, n_cases=30, n_wishes=5, n_hours=5)
    refresh_rollups()
    street = login("street_admin")
    url = f"/admin/stats?area_id={areas['沁河镇'].id}&from=2025-01-01&to=2025-04-30"
    before = street.get(url).get_json()["cases"]
    assert before["from_rollups"] is True and before["by_community"]
    community = login("east_admin").get(
        f"/admin/stats?area_id={areas['东城社区'].id}&from=2025-01-01&to=2025-04-30").get_json()["cases"]
    # A community reads its rollups too, with its grids and its medians.
    assert community["from_rollups"] is True and community["by_grid"] and not community["by_community"]
    assert community["hours_to_accept"]["median"] is not None

    _generate(random.Random(6), places, categories, users, n_cases=10, n_wishes=0, n_hours=0, prefix="NEW")
    # Until the periodic job runs, the street reads the rollups as they were ...
    assert street.get(url).get_json()["cases"]["total"] == before["total"]
    refresh_rollups()
    # ... and then the new cases count.
    assert street.get(url).get_json()["cases"]["total"] == _cases_in_street(areas)


def _cases_in_street(areas) -> int:
    path = areas["沁河镇"].path
    return sum(1 for c in db.session.scalars(select(Case).where(Case.area_path.startswith(path)))
               if date(2025, 1, 1) <= to_local(c.created_at).date() <= date(2025, 4, 30))


def test_dirty_marks_group_by_day_and_area(world):
    places, categories, users, _ = world
    _generate(random.Random(1), places, categories, users, n_cases=20, n_wishes=0, n_hours=0)
    marks = db.session.execute(select(RollupDirty.area_path, RollupDirty.day)).all()
    expected = defaultdict(set)
    for c in db.session.scalars(select(Case).where(Case.tracking_no.like("GEN%"))):
        expected[c.area_path].add(to_local(c.created_at).date())
        if c.closed_at:
            expected[c.area_path].add(to_local(c.closed_at).date())
    assert {(p, d) for p, ds in expected.items() for d in ds} <= set(marks)


# -- every level reads rollups: the dashboard, section by section, equals the one from the rows ---------

EDGE_SECONDS = (0, 1, 3599, 3600, 3601, 86399, 86400, 86401, 259200, 259201, 604800, 604801, 2592000, 2592001,
                3_000_000)


def _edge_moment(rng: random.Random) -> datetime:
    # Local midnights at month ends (16:00 UTC), a second either side, and ordinary times.
    day = rng.choice((date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 15), date(2025, 1, 5)))
    edge = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=16)
    return edge + timedelta(seconds=rng.choice((-1, 0, 1, -3600, 7200, rng.randrange(-86400, 86400))))


def _generate_edges(rng: random.Random, places, categories, users, n_cases=250, n_wishes=80):
    cases, wishes = [], []
    for i in range(n_cases):
        place = rng.choice(places)
        created = _edge_moment(rng) if rng.random() < 0.5 else _moment(rng, rng.randrange(DAYS))
        status = rng.choice(STATUSES)
        wait = rng.choice(EDGE_SECONDS) if rng.random() < 0.6 else rng.randrange(40 * 86400)
        accepted = created + timedelta(seconds=wait) if status not in ("submitted", "rejected") else None
        closed = created + timedelta(seconds=rng.choice(EDGE_SECONDS) + rng.choice((0, 0, 86400))) \
            if status == "closed" else None
        cases.append(Case(
            tracking_no=f"EDG{i:05d}", place_id=place.id, area_path=place.area_path,
            category_id=rng.choice(categories).id, description="生成", reporter_id=rng.choice(users).id,
            status=status, created_at=created, accepted_at=accepted, closed_at=closed,
            overdue=rng.random() < 0.2, reopen_count=rng.choice((0, 0, 1)),
            rating=rng.choice((None, 2, 4, 5)) if closed else None))
    for i in range(n_wishes):
        place = rng.choice(places)
        created = _edge_moment(rng)
        claimed = created + timedelta(seconds=rng.choice(EDGE_SECONDS)) if rng.random() < 0.7 else None
        wishes.append(Wish(
            title=f"边界心愿{i}", category="daily", desired_date=FIRST, requester_id=rng.choice(users).id,
            community_id=_community_id(place.area_path), area_path=place.area_path, public_title=f"边界心愿{i}",
            status="claimed" if claimed else "approved", created_at=created, claimed_at=claimed))
    db.session.add_all([*cases, *wishes])
    db.session.flush()
    return cases, wishes


def _flow_from_rows(path: str, first: date, last: date) -> dict:
    rows = list(db.session.scalars(select(Case).where(Case.area_path.startswith(path))))
    closed = [c for c in rows if c.closed_at and first <= to_local(c.closed_at).date() <= last]
    return {"in": sum(1 for c in rows if first <= to_local(c.created_at).date() <= last), "out": len(closed),
            "out_on_time": sum(1 for c in closed if not c.overdue)}


def _assert_dashboard_equal(area, first: date, last: date) -> None:
    span = stats.period(first, last)
    rows = stats.figures_for(area.path, span, from_rollups=False)
    rolled = stats.figures_for(area.path, span, from_rollups=True)
    label = f"{area.name} {first}..{last}"
    rc, kc = rows["cases"], dict(rolled["cases"])
    assert kc.pop("from_rollups") is True
    assert kc.pop("flow") == _flow_from_rows(area.path, first, last), label
    by_community = kc.pop("by_community")
    if area.level == "community":
        assert by_community == [] and kc["by_grid"] == rc["by_grid"], label
    else:
        assert kc.pop("by_grid") == [] and rc.pop("by_grid") is not None
        assert {i["community"]: i["count"] for i in by_community} == _by_community(area.path, first, last), label
    assert sorted(map(tuple, map(dict.items, kc.pop("by_category")))) == \
        sorted(map(tuple, map(dict.items, rc.pop("by_category")))), label
    kc.pop("by_grid", None)
    rc.pop("by_grid", None)
    assert kc == rc, label  # totals, statuses, medians and p90, means, rates, satisfaction, weekly trend
    for section in stats.SECTIONS:
        if section != "cases":
            assert rolled[section] == rows[section], f"{label}: {section}"


def _check_dashboards(areas) -> None:
    spans = [(FIRST, FIRST + timedelta(days=DAYS)), (date(2025, 2, 1), date(2025, 2, 28)),
             (date(2025, 1, 31), date(2025, 2, 1)), (date(2025, 1, 20), date(2025, 3, 10))]
    for name in ("沁源县", "沁河镇", "东城社区", "西园社区"):
        for first, last in spans:
            _assert_dashboard_equal(areas[name], first, last)


def _rollup_rows() -> dict:
    out = {}
    for model in (CaseRollup, AreaRollup):
        table = model.__table__
        out[table.name] = sorted(tuple(round(v, 6) if isinstance(v, float) else v for v in row)
                                 for row in db.session.execute(select(table)))
    return out


def test_duration_buckets_at_their_edges(world):
    places, categories, users, _ = world
    created = datetime(2025, 1, 10, 2, 0, tzinfo=UTC)
    for i, seconds in enumerate(EDGE_SECONDS):
        db.session.add(Case(tracking_no=f"BKT{i:03d}", place_id=places[0].id, area_path=places[0].area_path,
                            category_id=categories[0].id, description="分段", reporter_id=users[0].id,
                            status="accepted", created_at=created, accepted_at=created + timedelta(seconds=seconds)))
    db.session.flush()
    buckets = dict(db.session.execute(select(Case.tracking_no, rollups.duration_bucket(Case.accepted_at, Case.created_at))
                                      .where(Case.tracking_no.like("BKT%"))).all())
    assert [buckets[f"BKT{i:03d}"] for i in range(len(EDGE_SECONDS))] == [
        "1", "1", "1", "1", "2", "24", "24", "26", "72", "78", "168", "192", "720", "888", "888"]
    assert rollups.quantile({1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, 50) == 3.0
    assert rollups.quantile({10: 1, 20: 1, 30: 1, 50: 1}, 50) == 20.0
    assert rollups.quantile({10: 9, 20: 1}, 90) == 10.0 and rollups.quantile({10: 8, 20: 2}, 90) == 20.0
    assert rollups.quantile({}, 50) is None


def test_every_level_reads_rollups_equal_to_the_rows(world, login):
    places, categories, users, areas = world
    rng = random.Random(29)
    cases, wishes = _generate_edges(rng, places, categories, users)
    _generate(rng, places, categories, users, n_cases=120, n_wishes=30, n_hours=60, prefix="MIX")
    rollups.refresh()
    _check_dashboards(areas)
    # The community's own dashboard, through the API, reads the rollups with its grids and medians.
    community = login("east_admin").get(
        f"/admin/stats?area_id={areas['东城社区'].id}&from=2025-01-01&to=2025-03-31").get_json()
    assert community["cases"]["from_rollups"] is True and community["cases"]["by_grid"]
    assert community["cases"]["hours_to_close"]["p90"] is not None
    assert community["wishes"]["median_hours_to_claim"] is not None

    # Late changes after the refresh: across bucket edges, days, months, grids and communities.
    for case in rng.sample(cases, 60):
        action = rng.choice(("accept", "close", "move", "earlier", "reopen"))
        if action == "accept":
            case.accepted_at = case.created_at + timedelta(seconds=rng.choice(EDGE_SECONDS))
        elif action == "close":
            case.status, case.closed_at = "closed", case.created_at + timedelta(seconds=rng.choice(EDGE_SECONDS))
        elif action == "move":
            place = rng.choice(places)
            case.place_id, case.area_path = place.id, place.area_path
        elif action == "earlier":
            case.created_at = case.created_at - timedelta(seconds=rng.choice((1, 3600, 86400)))
        elif case.closed_at is not None:
            case.status, case.closed_at, case.reopen_count = "dispatched", None, case.reopen_count + 1
    for wish in rng.sample(wishes, 20):
        wish.claimed_at, wish.status = wish.created_at + timedelta(seconds=rng.choice(EDGE_SECONDS)), "claimed"
    db.session.flush()
    rollups.refresh()
    _check_dashboards(areas)

    # The set-based rebuild gives the same rows as the refreshes that kept them.
    kept = _rollup_rows()
    assert kept["case_rollups"] and kept["area_rollups"]
    rollups.rebuild_all()
    assert _rollup_rows() == kept
