"""Province scale (issue #27): the dashboards of a community, a street and a county, and the county's
monthly 一表通 workbook, over a generated county of N cases; communities, streets and counties read the
daily rollups.

    .venv/bin/python bench/scale.py --cases 3000000 [--runs 20] [--database gongzhi_bench_scale] [--write]
    .venv/bin/python bench/scale.py --reuse --rebuild-rollups --database gongzhi_bench_scale ...

It drops and creates its own database, loads the generated county with COPY (bench/dataset.py, the
same generator as bench/run.py), builds the rollups from the rows (`rollups.rebuild_all`, as
`flask rebuild-rollups` does), then times, in-process and without HTTP, `stats.dashboard` for a
different area on each run over the last 30 days, the last 365 days and 3 years; the street once
more from the rows, for comparison; a refresh of 1,000 dirty (day, community) pairs, as after a burst
of late changes; each section of the county's 3-year dashboard on its own; and the county's monthly
workbook. `--rebuild-rollups` (with `--reuse`) drops the rollup tables, creates them again from the
current models and rebuilds them (after a change of the rollups' schema). `--write` puts the table
into bench/RESULTS.md (one table per number of cases, between `<!-- scale N -->` markers).
"""
from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.accounts.models import SYSTEM_ADMIN  # noqa: E402
from app.areas.models import COMMUNITY, DISTRICT, STREET, Area  # noqa: E402
from app.cases.models import Case  # noqa: E402
from app.core import uow  # noqa: E402
from app.core.scoping import Actor, Grant  # noqa: E402
from app.extensions import db  # noqa: E402
from app.stats import rollups  # noqa: E402
from app.stats import service as stats  # noqa: E402
from app.stats.models import AreaRollup, CaseRollup, RollupDirty  # noqa: E402
from bench import dataset  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
RESULTS = ROOT / "bench" / "RESULTS.md"
SPANS = (("30 days", 29), ("365 days", 364), ("3 years", 3 * 366 - 1))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def create_database(name: str) -> str:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


FIRST_CASES = 10_000


def load(app, url: str, cases: int, copies: int = 1, upto: int | None = None) -> dict:
    """Load the county (secondary indexes dropped during the COPY and rebuilt after). With `copies` > 1 the
    generator writes cases / copies and the database copies them (dataset.expand_cases). With `upto`, only
    the first `upto` cases of that history: the small twin the case lists are compared with."""
    timings = {}
    seed = cases // copies
    with app.app_context():
        db.create_all()
    loader = dataset.Loader(url, db.metadata, dataset.Sizes(cases=cases))
    t = time.monotonic()
    world = loader.load_base()
    save_figures(url, "staff", {"community": world.community_admins[world.communities[0][1]],
                                "street": world.street_admins[world.streets[0][1]]})
    indexes = dataset.secondary_indexes(url, ["cases", "timeline_events"])
    dataset.drop_indexes(url, indexes)
    loader.load_cases(min(upto or seed, seed), seed)
    timings["copy_s"] = time.monotonic() - t
    if copies > 1 and upto is None:
        log(f"generated {seed:,} cases in {timings['copy_s']:.0f} s; copying them {copies} times in SQL")
        t = time.monotonic()
        counts = dataset.expand_cases(url, seed, copies)
        timings["expand_s"] = time.monotonic() - t
        log(f"{counts['cases']:,} cases, {counts['timeline_events']:,} timeline events in {timings['expand_s']:.0f} s")
    t = time.monotonic()
    dataset.create_indexes(url, indexes)
    dataset.fix_sequences(url, db.metadata.tables)
    dataset.vacuum_analyze(url)
    timings["index_s"] = time.monotonic() - t
    return timings


def save_figures(url: str, key: str, value) -> None:
    """Keep a figure in the bench database itself, so that a `--reuse` run compares with its own load."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_figures (key text PRIMARY KEY, value jsonb NOT NULL)")
        conn.execute("INSERT INTO bench_figures VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                     (key, psycopg.types.json.Jsonb(value)))


def load_figures(url: str, key: str):
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT value FROM bench_figures WHERE key = %s", (key,)).fetchone()
    return row[0] if row else None


def time_case_lists(apps: dict, staff: dict, runs: int) -> dict:
    """A staff member's case list, first page and a deep page (the cursor half-way down the table), through
    the whole request path of the API (test client: routing, authentication, scoping, presenter, JSON), on
    each database in turn, request by request, so that whatever else loads the machine loads both alike."""
    from bench.run import issue_tokens  # noqa: PLC0415 - run.py's helper; importing it at the top drags wrk's setup in

    prepared = {}
    for name, app in apps.items():
        with app.app_context():
            top = db.session.scalar(select(func.max(Case.id)))
            db.session.remove()
        deep = base64.urlsafe_b64encode(f"k1:{top // 2}".encode()).decode().rstrip("=")
        prepared[name] = (app.test_client(), issue_tokens(app, list(staff.values())), deep)
    out: dict = {name: {} for name in apps}
    for scope, user_id in staff.items():
        for page in ("first", "deep"):
            timings: dict = {name: [] for name in apps}
            items = {}
            for run in range(runs + 5):
                for name, (client, tokens, deep) in prepared.items():
                    path = "/mp/v1/cases" if page == "first" else f"/mp/v1/cases?cursor={deep}"
                    started = time.perf_counter()
                    response = client.get(path, headers={"Authorization": f"Bearer {tokens[user_id]}"})
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise SystemExit(f"case list {name} {scope}/{page}: HTTP {response.status_code} "
                                         f"{response.get_data(True)[:200]}")
                    items[name] = len(response.get_json()["items"])
                    if run >= 5:  # the first five warm the caches
                        timings[name].append(elapsed)
            for name in apps:
                out[name][f"{scope}/{page}"] = {"median": statistics.median(timings[name]),
                                                "p95": p95(timings[name]), "items": items[name]}
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def time_dashboards(admin: Actor, areas: list[int], last_day: date, runs: int, from_rows: bool = False) -> dict:
    out = {}
    for label, days in SPANS:
        first_day = last_day - timedelta(days=days)
        timings, totals = [], []
        for run in range(runs):
            area = db.session.get(Area, areas[run % len(areas)])
            started = time.perf_counter()
            if from_rows:
                figures = stats.figures_for(area.path, stats.period(first_day, last_day))
            else:
                figures = stats.dashboard(admin, area.id, first_day, last_day)
            timings.append((time.perf_counter() - started) * 1000)
            totals.append(figures["cases"]["total"])
            db.session.rollback()
        out[label] = {"median": statistics.median(timings), "p95": p95(timings), "cases": statistics.mean(totals)}
    return out


def time_sections(area_id: int, last_day: date, runs: int) -> dict:
    """Each section of a county's 3-year dashboard on its own (what reads rows, what reads rollups)."""
    area = db.session.get(Area, area_id)
    span = stats.period(last_day - timedelta(days=SPANS[-1][1]), last_day)
    out = {}
    for name in stats.SECTIONS:
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            stats.figures_for(area.path, span, (name,), from_rollups=True)
            timings.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        out[name] = {"median": statistics.median(timings), "p95": p95(timings)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default="gongzhi_bench_scale")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run (no load)")
    parser.add_argument("--write", action="store_true", help="write the results into bench/RESULTS.md")
    parser.add_argument("--copies", type=int, default=1,
                        help="generate cases / copies in Python and copy them in SQL (10M: --copies 10)")
    parser.add_argument("--rebuild-rollups", action="store_true",
                        help="with --reuse: drop and recreate the rollup tables from the models, then rebuild them")
    parser.add_argument("--load-only", action="store_true",
                        help="stop after the load (and the case lists at 10k); measure later with --reuse")
    args = parser.parse_args()
    os.environ.setdefault("RATELIMIT_ENABLED", "false")

    url = f"{PG}/{args.database}" if args.reuse else create_database(args.database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    started = time.monotonic()
    twin_url = f"{PG}/{args.database}_10k"
    if args.reuse:
        timings = {}
    else:
        timings = load(app, url, args.cases, args.copies)
        log(f"the small twin {args.database}_10k: the first {FIRST_CASES:,} cases of the same history")
        load(create_app({"SQLALCHEMY_DATABASE_URI": create_database(f"{args.database}_10k"),
                         "RATELIMIT_ENABLED": False}), twin_url, args.cases, args.copies, upto=FIRST_CASES)
    if timings:
        log(f"loaded {args.cases:,} cases: COPY {timings['copy_s']:.0f} s, indexes and VACUUM {timings['index_s']:.0f} s")
        save_figures(url, "load", timings)
    else:
        timings = load_figures(url, "load") or {}
    if args.load_only:
        return

    admin = Actor(user_id=None, grants=(Grant(role=SYSTEM_ADMIN, area_path="/"),))
    results: dict = {"timings": timings}
    with app.app_context():
        if args.rebuild_rollups:
            tables = [m.__table__ for m in (CaseRollup, AreaRollup, RollupDirty)]
            db.metadata.drop_all(db.engine, tables=tables)
            db.metadata.create_all(db.engine, tables=tables)
            log("rollup tables dropped and created again from the models")
        if not args.reuse or not db.session.scalar(select(func.count()).select_from(CaseRollup)):
            t = time.monotonic()
            rollups.rebuild_all()
            uow.commit()
            timings["rollups_s"] = time.monotonic() - t
            dataset.vacuum_analyze(url, ["case_rollups", "area_rollups"])  # autovacuum is off on this machine
            log(f"rollups built from the rows in {timings['rollups_s']:.0f} s")
        results["cases"] = db.session.scalar(select(func.count(Case.id)))
        results["case_rollups"] = db.session.scalar(select(func.count()).select_from(CaseRollup))
        results["area_rollups"] = db.session.scalar(select(func.count()).select_from(AreaRollup))
        last_day = db.session.scalar(select(func.max(Case.created_at))).date()
        by_level = {level: list(db.session.scalars(select(Area.id).where(Area.level == level).order_by(Area.id)))
                    for level in (COMMUNITY, STREET, DISTRICT)}
        staff = load_figures(url, "staff")
        db.session.remove()
        twin = create_app({"SQLALCHEMY_DATABASE_URI": twin_url, "RATELIMIT_ENABLED": False})
        lists = time_case_lists({"10k": twin, "full": app}, {k: int(v) for k, v in staff.items()},
                                max(args.runs, 200))
        results["lists_10k"], results["lists_full"] = lists["10k"], lists["full"]
        log("case lists: " + "; ".join(f"{k} p95 {v['p95']:.1f} ms at 10k, {results['lists_full'][k]['p95']:.1f} ms "
                                        "at full size" for k, v in results["lists_10k"].items()))
        for level, label in ((COMMUNITY, "community"), (STREET, "street"), (DISTRICT, "county")):
            results[label] = time_dashboards(admin, by_level[level], last_day, args.runs)
            log(f"{label}: " + "; ".join(f"{k} p95 {v['p95']:.0f} ms" for k, v in results[label].items()))
        results["sections"] = time_sections(by_level[DISTRICT][0], last_day, max(3, args.runs // 2))
        log("county 3 years by section: " + "; ".join(f"{k} p95 {v['p95']:.0f} ms"
                                                       for k, v in results["sections"].items()))
        results["street_rows"] = time_dashboards(admin, by_level[STREET], last_day, max(3, args.runs // 4),
                                                 from_rows=True)
        log("street from the rows: " + "; ".join(f"{k} p95 {v['p95']:.0f} ms"
                                                  for k, v in results["street_rows"].items()))

        # A burst of late changes: 1,000 (day, community) pairs marked dirty, then one refresh.
        rng = random.Random(27)
        communities = list(db.session.scalars(select(Area.path).where(Area.level == COMMUNITY)))
        first = last_day - timedelta(days=699)
        marks = {(rng.choice(communities), first + timedelta(days=rng.randrange(700))) for _ in range(1000)}
        db.session.execute(RollupDirty.__table__.insert(),
                           [{"area_path": p, "day": d, "generation": 1} for p, d in marks])
        uow.commit()
        t = time.monotonic()
        refreshed = rollups.refresh()
        uow.commit()
        results["refresh"] = {"pairs": refreshed, "seconds": time.monotonic() - t}
        log(f"refresh of {refreshed} dirty (day, community) pairs: {results['refresh']['seconds']:.1f} s")

        county = db.session.get(Area, by_level[DISTRICT][0])
        month = (last_day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        t = time.monotonic()
        workbook = stats.monthly_workbook(county, month)
        results["workbook"] = {"month": month, "seconds": time.monotonic() - t, "bytes": len(workbook)}
        log(f"county workbook {month}: {results['workbook']['seconds']:.2f} s")
        db.session.remove()
    results["wall_s"] = time.monotonic() - started
    results["load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report = render(results, args)
    print(report)
    if args.write:
        write(report)


def render(r: dict, args) -> str:
    t = r["timings"]
    mark = f"scale {r['cases']}"
    lines = [
        f"<!-- {mark} -->",
        f"### Province scale: rollups at every level, {r['cases']:,} cases (issue #27)",
        "",
        f"`.venv/bin/python bench/scale.py --cases {args.cases} --runs {args.runs}"
        f"{f' --copies {args.copies}' if args.copies > 1 else ''}"
        f"{' --reuse' if args.reuse else ''}{' --rebuild-rollups' if args.rebuild_rollups else ''} --write` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.python_version()}, 2 shared CPUs, load average {r['load_average']} at the end: "
        "other engineers ran test suites on the same 2 cores during the run, so these are noisy upper bounds).",
        "",
        f"Data: {r['cases']:,} cases over 700 days in 1 county, 10 streets, 100 communities, 2,000 grids "
        f"(bench/dataset.py); {r['case_rollups']:,} case rollup rows and {r['area_rollups']:,} area rollup rows."
        + (f" COPY {t['copy_s']:.0f} s, indexes and VACUUM {t['index_s']:.0f} s." if "copy_s" in t else "")
        + (f" The generator wrote {r['cases'] // args.copies:,} cases and the database copied them {args.copies}"
           f" times (`--copies`, bench/dataset.py `expand_cases`: same places, categories, states and times, "
           f"{args.copies} times as dense) in {t['expand_s']:.0f} s." if t.get("expand_s") else "")
        + (f" Rollups built from the rows in {t['rollups_s']:.0f} s (`flask rebuild-rollups`, set-based)."
           if "rollups_s" in t
           else ""),
        "",
        "In-process `stats.dashboard` (all five sections; a different area each run; no HTTP), ms:",
        "",
        "| area (source) | range | median | p95 | cases in range (mean) |",
        "|---|---|---:|---:|---:|",
    ]
    for key, label in (("community", "community (rollups)"), ("street", "street (rollups)"),
                       ("county", "county (rollups)"), ("street_rows", "street (rows, for comparison)")):
        for span, v in r[key].items():
            lines.append(f"| {label} | {span} | {v['median']:.0f} | {v['p95']:.0f} | {v['cases']:,.0f} |")
    if r.get("sections"):
        lines += ["", "Each section of the county's 3-year dashboard on its own, ms: "
                  + "; ".join(f"{k} p50 {v['median']:.0f}, p95 {v['p95']:.0f}" for k, v in r["sections"].items())
                  + "."]
    if r.get("lists_full"):
        lines += [
            "",
            f"Staff case lists (`GET /mp/v1/cases` through the test client: routing, token, scoping, presenter, "
            f"JSON), on the loaded database and on its twin holding the first {FIRST_CASES:,} cases of the same "
            "history (`<database>_10k`), one request on each in turn, ms:",
            "",
            "| scope / page | p50 10k | p95 10k | p50 full | p95 full | p95 full ÷ p95 10k | target | result |",
            "|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for key, full in r["lists_full"].items():
            small = r["lists_10k"][key]
            ratio = full["p95"] / small["p95"]
            lines.append(f"| {key} | {small['median']:.1f} | {small['p95']:.1f} | {full['median']:.1f} | "
                         f"{full['p95']:.1f} | {ratio:.2f} | ≤ 1.5 | {'PASS' if ratio <= 1.5 else 'FAIL'} |")
    lines += [
        "",
        f"Refresh of {r['refresh']['pairs']:,} dirty (day, community) pairs (a burst of late changes): "
        f"{r['refresh']['seconds']:.1f} s. The county's monthly 一表通 workbook ({r['workbook']['month']}, from "
        f"rollups): {r['workbook']['seconds']:.2f} s. Whole run {r['wall_s'] / 60:.1f} min.",
        f"<!-- /{mark} -->",
    ]
    return "\n".join(lines)


def write(report: str) -> None:
    """Replace this scale's table in RESULTS.md (one per number of cases), or add it at the end."""
    mark = re.match(r"<!-- (scale \d+) -->", report)[1]
    text = RESULTS.read_text()
    pattern = re.compile(rf"<!-- {mark} -->.*?<!-- /{mark} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: report, text)
    else:
        text = text.rstrip("\n") + "\n\n" + report + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
