"""The benchmark's generated dataset, bulk-loaded with PostgreSQL COPY through psycopg 3.

Rows are built from the app's SQLAlchemy Table objects: every column of the table is written,
and a column the generator leaves out gets its Python-side default (scalar or callable), so a
NOT NULL column can never be missed silently. JSON columns go in as JSON text.

Ids are given explicitly (the generator needs to know them); the id sequences are moved past
them afterwards, so rows the app creates later get fresh ids.
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg
from sqlalchemy import JSON

# How the generated cases are spread over the states of the closed loop (weights).
CASE_STATUSES = (("closed", 50), ("handled", 8), ("dispatched", 12), ("accepted", 12), ("submitted", 8),
                 ("rejected", 7), ("withdrawn", 3))
WISH_STATUSES = (("confirmed", 40), ("fulfilled", 10), ("claimed", 15), ("approved", 20), ("submitted", 10),
                 ("rejected", 3), ("cancelled", 2))
WISH_CATEGORIES = ("daily", "repair", "study", "health", "companion", "legal", "digital", "goods")
CATEGORIES = (("环境卫生", 24, 72), ("市政设施", 24, 120), ("物业管理", 24, 72), ("噪音扰民", 12, 48),
              ("违章停车", 4, 24), ("安全隐患", 4, 24), ("绿化养护", 24, 168), ("其他", 24, 72))
PROBLEMS = ("楼道堆放杂物，影响通行", "路灯不亮，夜间出行不便", "垃圾桶满溢，气味很大", "井盖松动，有安全隐患",
            "单元门禁坏了", "小区内车辆乱停", "广场舞音量过大", "绿化带有枯树需要修剪", "下水道堵塞返水",
            "电动车在楼道内充电")
SCENE_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=700)  # cases are spread over this period, ids ascending with time


REDEMPTION_STOCK = 10
POINTS_PRICE = 30


@dataclass
class Sizes:
    streets: int = 10
    communities: int = 100
    grids: int = 2000
    places: int = 50_000
    users: int = 100_000
    cases: int = 1_000_000
    wishes: int = 100_000
    residents_with_tokens: int = 300
    rush_members: int = 200
    multi_wishes: int = 1000
    claimers_per_wish: int = 10

    @classmethod
    def quick(cls, cases: int) -> Sizes:
        return cls(streets=2, communities=10, grids=100, places=2000, users=5000, cases=cases, wishes=2000,
                   residents_with_tokens=100, rush_members=200, multi_wishes=100)


@dataclass
class World:
    """What the load tests need to know about the generated data."""

    district: int = 0
    streets: list[tuple[int, str]] = field(default_factory=list)          # (id, path)
    communities: list[tuple[int, str]] = field(default_factory=list)
    grids: list[tuple[int, str]] = field(default_factory=list)
    places: list[tuple[int, str]] = field(default_factory=list)            # (id, grid path)
    scenes: list[str] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    residents: range = range(0)
    grid_workers: dict[str, int] = field(default_factory=dict)             # grid path -> user id
    community_admins: dict[str, int] = field(default_factory=dict)         # community path -> user id
    street_admins: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)              # street path -> department id
    rush_wish: int = 0
    rush_members: list[int] = field(default_factory=list)
    # 积分超市: an item with REDEMPTION_STOCK left, wanted by every rush member (each holds enough points).
    rush_item: int = 0
    multi_claims: list[tuple[int, list[int]]] = field(default_factory=list)  # (wish id, claimer user ids)
    token_users: list[int] = field(default_factory=list)
    cases_loaded: int = 0
    next_ids: dict[str, int] = field(default_factory=dict)


_MISSING = object()


class Writer:
    """COPY rows into one table; columns the row leaves out get the model's Python default."""

    def __init__(self, table):
        self.table = table
        self.names = [c.name for c in table.columns]
        # (name, scalar default, callable default, is JSON, NOT NULL) per column, worked out once.
        self.plan = []
        for col in table.columns:
            default = col.default
            scalar = default.arg if default is not None and default.is_scalar else None
            call = default.arg if default is not None and default.is_callable else None
            self.plan.append((col.name, scalar, call, isinstance(col.type, JSON), not col.nullable))
        self.count = 0

    def row(self, values: dict) -> tuple:
        out = []
        for name, scalar, call, is_json, required in self.plan:
            value = values.get(name, _MISSING)
            if value is _MISSING:
                value = call(None) if call is not None else scalar
            if value is None:
                if required:
                    raise ValueError(f"{self.table.name}.{name} is NOT NULL and the generator gave no value")
            elif is_json:
                value = "[]" if value == [] else "{}" if value == {} else json.dumps(value, ensure_ascii=False)
            out.append(value)
        return tuple(out)

    def copy(self, conn: psycopg.Connection, rows) -> int:
        cols = ", ".join(f'"{n}"' for n in self.names)
        n = 0
        with conn.cursor() as cur, cur.copy(f'COPY "{self.table.name}" ({cols}) FROM STDIN') as copy:
            for values in rows:
                copy.write_row(self.row(values))
                n += 1
        self.count += n
        return n


def _weighted(rng: random.Random, choices, k: int) -> list[str]:
    names, weights = zip(*choices, strict=True)
    return rng.choices(names, weights=weights, k=k)


def _scene(rng: random.Random) -> str:
    return "b" + "".join(rng.choices(SCENE_ALPHABET, k=20))


def _tracking(i: int, when: datetime) -> str:
    tail = []
    for _ in range(6):
        i, r = divmod(i, 32)
        tail.append(TRACKING_ALPHABET[r])
    return f"GZ{when:%Y%m%d}-{''.join(reversed(tail))}"


class Loader:
    def __init__(self, conninfo: str, metadata, sizes: Sizes, seed: int = 11):
        self.conninfo = conninfo
        self.tables = metadata.tables
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.world = World()
        self.timings: dict[str, float] = {}

    def writer(self, name: str) -> Writer:
        return Writer(self.tables[name])

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.conninfo)
        # The generator keeps every reference consistent; skipping the FK triggers makes COPY several times faster.
        conn.execute("SET session_replication_role = replica")
        return conn

    # -- the base: areas, places, codes, users, staff, members, wishes --------------------------

    def load_base(self) -> World:
        started = time.monotonic()
        s, w, rng = self.sizes, self.world, self.rng
        now = datetime.now(UTC)
        with self._connect() as conn:
            areas, next_id = [], 1
            w.district = next_id
            areas.append({"id": next_id, "name": "沁源县", "level": "district", "parent_id": None,
                          "path": f"/{next_id}/", "created_at": EPOCH})
            next_id += 1
            for i in range(s.streets):
                path = f"/{w.district}/{next_id}/"
                areas.append({"id": next_id, "name": f"第{i + 1}街道", "level": "street", "parent_id": w.district,
                              "path": path, "created_at": EPOCH})
                w.streets.append((next_id, path))
                next_id += 1
            for i in range(s.communities):
                sid, spath = w.streets[i % s.streets]
                path = f"{spath}{next_id}/"
                areas.append({"id": next_id, "name": f"第{i + 1}社区", "level": "community", "parent_id": sid,
                              "path": path, "created_at": EPOCH})
                w.communities.append((next_id, path))
                next_id += 1
            for i in range(s.grids):
                cid, cpath = w.communities[i % s.communities]
                path = f"{cpath}{next_id}/"
                areas.append({"id": next_id, "name": f"第{i + 1}网格", "level": "grid", "parent_id": cid,
                              "path": path, "created_at": EPOCH})
                w.grids.append((next_id, path))
                next_id += 1
            self.writer("areas").copy(conn, areas)

            departments = []
            for i, (sid, spath) in enumerate(w.streets):
                departments.append({"id": i + 1, "name": f"城管中队{i + 1}", "area_id": sid, "area_path": spath,
                                    "created_at": EPOCH})
                w.departments[spath] = i + 1
            self.writer("departments").copy(conn, departments)

            kinds = ("building", "building", "building", "unit", "shop", "outdoor")
            places, codes = [], []
            for pid in range(1, s.places + 1):
                gid, gpath = w.grids[(pid - 1) % s.grids]
                places.append({"id": pid, "grid_id": gid, "name": f"{pid}号楼", "kind": rng.choice(kinds),
                               "address": f"幸福路{pid}号", "area_path": gpath, "created_at": EPOCH})
                scene = _scene(rng)
                codes.append({"id": pid, "scene": scene, "place_id": pid, "area_path": gpath, "created_at": EPOCH})
                w.places.append((pid, gpath))
                w.scenes.append(scene)
            self.writer("places").copy(conn, places)
            self.writer("codes").copy(conn, codes)

            cats = [{"id": i + 1, "name": name, "accept_hours": a, "handle_hours": h, "created_at": EPOCH}
                    for i, (name, a, h) in enumerate(CATEGORIES)]
            self.writer("case_categories").copy(conn, cats)
            w.categories = [c["id"] for c in cats]

            # Users: staff and members first, then residents up to the total.
            users, grants, uid, gid_ = [], [], 0, 0

            def staff(username: str, name: str, role: str, area_id: int, path: str, department_id=None) -> int:
                nonlocal uid, gid_
                uid += 1
                gid_ += 1
                users.append({"id": uid, "username": username, "display_name": name, "created_at": EPOCH})
                grants.append({"id": gid_, "user_id": uid, "role": role, "area_id": area_id, "area_path": path,
                               "department_id": department_id, "created_at": EPOCH})
                return uid

            for i, (g, gpath) in enumerate(w.grids):
                w.grid_workers[gpath] = staff(f"grid{i + 1}", f"网格员{i + 1}", "grid_worker", g, gpath)
            for i, (c, cpath) in enumerate(w.communities):
                w.community_admins[cpath] = staff(f"community{i + 1}", f"社区管理员{i + 1}", "community_admin",
                                                  c, cpath)
            for i, (st, spath) in enumerate(w.streets):
                w.street_admins[spath] = staff(f"street{i + 1}", f"街道管理员{i + 1}", "street_admin", st, spath)
                staff(f"dept{i + 1}", f"城管队员{i + 1}", "department", st, spath, department_id=w.departments[spath])

            members, mid = [], 0

            def member(community: tuple[int, str]) -> int:
                nonlocal uid, gid_, mid
                uid += 1
                gid_ += 1
                mid += 1
                cid, cpath = community
                users.append({"id": uid, "openid": f"o_bench_member_{uid}", "display_name": f"党员{uid}",
                              "created_at": EPOCH})
                members.append({"id": mid, "user_id": uid, "name": f"党员{uid}", "org_name": "县供电公司党支部",
                                "community_id": cid, "area_path": cpath, "status": "approved",
                                "skills": ["维修", "助老"], "reviewed_at": EPOCH, "created_at": EPOCH})
                grants.append({"id": gid_, "user_id": uid, "role": "party_member", "area_id": cid,
                               "area_path": cpath, "created_at": EPOCH})
                return uid

            rush_community = w.communities[0]
            w.rush_members = [member(rush_community) for _ in range(s.rush_members)]
            # 1,000 wishes × 10 claimers: each member is among the claimers of 5 wishes, so nobody
            # reaches the limit of open claims (5) and every loser loses to the race, not to the limit.
            per_community = max(1, s.multi_wishes // s.communities)
            pool_size = 2 * s.claimers_per_wish
            community_pools = {c: [member(c) for _ in range(pool_size)] for c in w.communities}
            # The members who served the generated history: nobody holds more than MAX_OPEN_CLAIMS (5)
            # wishes in "claimed" at once, as the app enforces, and the claim tests' members hold none.
            veterans = {c: [member(c) for _ in range(pool_size)] for c in w.communities}
            open_claims: Counter[int] = Counter()

            first_resident = uid + 1
            residents = max(1000, s.users - uid)
            for _ in range(residents):
                uid += 1
                users.append({"id": uid, "openid": f"o_bench_{uid}", "display_name": f"居民{uid}",
                              "phone_last4": f"{uid % 10000:04d}", "created_at": EPOCH})
            w.residents = range(first_resident, uid + 1)
            self.writer("users").copy(conn, users)
            self.writer("role_grants").copy(conn, grants)
            self.writer("party_members").copy(conn, members)

            # Wishes: 100,000 in every state, then the ones the claim tests race for.
            wishes, wid = [], 0
            statuses = _weighted(rng, WISH_STATUSES, s.wishes)
            for status in statuses:
                wid += 1
                community = rng.choice(w.communities)
                created = EPOCH + SPAN * (wid / (s.wishes + 1))
                claimer = None
                if status in ("claimed", "fulfilled", "confirmed"):
                    claimer = rng.choice(veterans[community])
                    if status == "claimed":
                        if open_claims[claimer] >= 5:
                            status = "fulfilled"
                        else:
                            open_claims[claimer] += 1
                wishes.append(self._wish(wid, community[0], community[1], rng.choice(w.residents), status,
                                         created, claimer))
            today = now.date()
            wid += 1
            w.rush_wish = wid
            wishes.append(self._wish(wid, rush_community[0], rush_community[1], rng.choice(w.residents),
                                     "approved", now, None, today, category="repair"))
            for c in w.communities:
                pool = community_pools[c]
                for k in range(per_community):
                    wid += 1
                    wishes.append(self._wish(wid, c[0], c[1], rng.choice(w.residents), "approved", now, None,
                                             today, category="repair"))
                    claimers = [pool[(k * 2 + j) % pool_size] for j in range(s.claimers_per_wish)]
                    w.multi_claims.append((wid, claimers))
            self.writer("wishes").copy(conn, wishes)
            w.rush_item = self._points_supermarket(conn, rush_community, w.rush_members, now)
            conn.commit()
        w.next_ids = {"cases": 1, "timeline_events": 1}
        self.timings["base"] = time.monotonic() - started
        return w

    def _points_supermarket(self, conn, community: tuple[int, str], members: list[int], now: datetime) -> int:
        """One scarce item in the rush community's points supermarket, and points for every rush member
        (an earned line in the ledger and the balance beside it, as the app keeps them)."""
        cid, cpath = community
        self.writer("shop_items").copy(conn, [{"id": 1, "community_id": cid, "area_path": cpath, "name": "节日礼包",
                                               "price": POINTS_PRICE, "stock": REDEMPTION_STOCK, "active": True,
                                               "created_at": now}])
        period = now.strftime("%Y-%m")
        self.writer("point_entries").copy(conn, [
            {"id": n, "user_id": uid, "community_id": cid, "area_path": cpath, "points": 2 * POINTS_PRICE,
             "kind": "earn", "source_type": "application", "source_id": n, "revision": 0, "period": period,
             "note": "基准测试：已得积分", "created_at": now} for n, uid in enumerate(members, start=1)])
        self.writer("point_accounts").copy(conn, [
            {"id": n, "user_id": uid, "balance": 2 * POINTS_PRICE, "created_at": now}
            for n, uid in enumerate(members, start=1)])
        return 1

    @staticmethod
    def _wish(wid, cid, cpath, requester, status, created, claimed_by, desired: date | None = None,
              category: str | None = None) -> dict:
        # Goods wishes (物品心愿) are pledged by donors, never claimed: the claim races use a service wish.
        title = category or WISH_CATEGORIES[wid % len(WISH_CATEGORIES)]
        if title == "goods" and claimed_by is not None:
            title = "daily"
        return {"id": wid, "title": f"心愿{wid}", "detail": "希望有人帮忙修一下家里的水龙头", "category": title,
                "desired_date": desired or (created + timedelta(days=14)).date(), "requester_id": requester,
                "contact_name": "王阿姨", "community_id": cid, "area_path": cpath, "public_title": f"心愿{wid}",
                "public_detail": "希望有人帮忙修一下家里的水龙头", "status": status, "claimed_by": claimed_by,
                "claimed_at": created + timedelta(days=1) if claimed_by else None,
                "fulfilled_at": created + timedelta(days=3) if status in ("fulfilled", "confirmed") else None,
                "hours": 2.0 if status in ("fulfilled", "confirmed") else None,
                "confirmed_at": created + timedelta(days=4) if status == "confirmed" else None,
                "created_at": created}

    # -- cases with their timelines -------------------------------------------------------------

    def load_cases(self, upto: int, total: int) -> float:
        """Load cases until `upto` exist (ids ascending with time over a `total`-sized history)."""
        started = time.monotonic()
        w, rng = self.world, self.rng
        first = w.next_ids["cases"]
        if upto < first:
            return 0.0
        case_writer, event_writer = self.writer("cases"), self.writer("timeline_events")
        state = {"event": w.next_ids["timeline_events"]}
        statuses = _weighted(rng, CASE_STATUSES, upto - first + 1)
        cats = {c: (a, h) for c, (_, a, h) in zip(w.categories, CATEGORIES, strict=True)}
        events: list[dict] = []

        def event(case_id, actor, role, action, frm, to, at, note="", data=None):
            events.append({"id": state["event"], "subject_type": "case", "subject_id": case_id,
                           "actor_id": actor, "actor_role": role, "action": action, "from_state": frm,
                           "to_state": to, "note": note, "data": data or {}, "created_at": at})
            state["event"] += 1

        def cases():
            for offset, status in enumerate(statuses):
                cid = first + offset
                place_id, gpath = w.places[rng.randrange(len(w.places))]
                category = rng.choice(w.categories)
                accept_h, handle_h = cats[category]
                created = EPOCH + SPAN * (cid / (total + 1))
                reporter = rng.choice(w.residents)
                worker = w.grid_workers[gpath]
                community_path = "/".join(gpath.split("/")[:4]) + "/"
                street_path = "/".join(gpath.split("/")[:3]) + "/"
                admin = w.community_admins[community_path]
                row = {"id": cid, "tracking_no": _tracking(cid, created), "place_id": place_id,
                       "area_path": gpath, "category_id": category, "description": rng.choice(PROBLEMS),
                       "reporter_id": reporter, "status": status, "created_at": created,
                       "anonymous": rng.random() < 0.1}
                event(cid, reporter, "resident", "report", None, "submitted", created)
                t = created + timedelta(minutes=rng.randint(5, 600))
                if status == "submitted":
                    row["due_at"] = created + timedelta(hours=accept_h)
                elif status == "withdrawn":
                    event(cid, reporter, "resident", "withdraw", "submitted", "withdrawn", t)
                    row["closed_at"] = t
                elif status == "rejected":
                    event(cid, worker, "grid_worker", "reject", "submitted", "rejected", t, "不属于受理范围",
                          {"reason": "不属于受理范围"})
                    row["closed_at"] = t
                else:
                    event(cid, worker, "grid_worker", "accept", "submitted", "accepted", t)
                    row["accepted_at"] = t
                    dispatched = status != "accepted" and rng.random() < 0.6
                    if dispatched:
                        t += timedelta(hours=rng.randint(1, 12))
                        if rng.random() < 0.5:
                            dept = w.departments[street_path]
                            row["department_id"] = dept
                            event(cid, admin, "community_admin", "dispatch", "accepted", "dispatched", t,
                                  data={"department_id": dept, "department": "城管中队"})
                        else:
                            row["assignee_id"] = worker
                            event(cid, admin, "community_admin", "dispatch", "accepted", "dispatched", t,
                                  data={"assignee_id": worker})
                    if status == "dispatched" and not dispatched:
                        row["status"] = "accepted"
                    if status in ("accepted", "dispatched"):
                        row["due_at"] = t + timedelta(hours=handle_h)
                        row["remind_at"] = row["due_at"] - timedelta(hours=min(24, handle_h / 4))
                    if status in ("handled", "closed"):
                        t += timedelta(hours=rng.randint(1, 48))
                        frm = "dispatched" if dispatched else "accepted"
                        event(cid, worker, "grid_worker", "handle", frm, "handled", t, "已处理完毕")
                        row["handler_id"] = worker
                    if status == "closed":
                        t += timedelta(hours=rng.randint(1, 24))
                        event(cid, admin, "community_admin", "verify", "handled", "closed", t, data={"passed": True})
                        row["closed_at"] = t
                        if rng.random() < 0.4:
                            row["rating"] = rng.randint(3, 5)
                            row["rated_at"] = t + timedelta(days=1)
                            event(cid, reporter, "resident", "rate", "closed", "closed", t + timedelta(days=1),
                                  data={"score": row["rating"]})
                yield row

        def drained_events():
            while events:
                chunk = events[:]
                events.clear()
                yield from chunk

        with self._connect() as conn:
            batch = 50_000
            gen = cases()
            while True:
                chunk = [r for _, r in zip(range(batch), gen, strict=False)]
                if not chunk:
                    break
                case_writer.copy(conn, chunk)
                event_writer.copy(conn, drained_events())
            conn.commit()
        w.next_ids["cases"] = upto + 1
        w.next_ids["timeline_events"] = state["event"]
        w.cases_loaded = upto
        elapsed = time.monotonic() - started
        self.timings[f"cases to {upto}"] = elapsed
        return elapsed


def fix_sequences(conninfo: str, tables) -> None:
    """Move each id sequence past the ids the loader gave, so the app's inserts get fresh ones."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name in tables:
            if not conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' "
                                "AND table_name = %s AND column_name = 'id'", (name,)).fetchone():
                continue  # keyed by something else (the daily rollups)
            seq = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (name,)).fetchone()[0]
            if seq:
                conn.execute(f'SELECT setval(%s, GREATEST((SELECT max(id) FROM "{name}"), 1))', (seq,))


def secondary_indexes(conninfo: str, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on `tables` that back no constraint: safe to drop and rebuild."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("""
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """, (tables,)).fetchall()
    return [(r[0], r[1]) for r in rows]


def drop_indexes(conninfo: str, indexes: list[tuple[str, str]]) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name, _ in indexes:
            conn.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_indexes(conninfo: str, indexes: list[tuple[str, str]]) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.execute(definition)


def vacuum_analyze(conninfo: str, tables=None) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if tables:
            for name in tables:
                conn.execute(f'VACUUM ANALYZE "{name}"')
        else:
            conn.execute("VACUUM ANALYZE")


def expand_cases(conninfo: str, seed_cases: int, copies: int) -> dict:
    """Make `copies` × the loaded cases in SQL: case `id` (≤ seed_cases) gets copies with id + k × seed_cases
    (k = 1 … copies − 1), same community, grid, category, status and times, a tracking number of its own,
    and copies of its timeline events. The server writes the rows (INSERT … SELECT), which is many times
    faster than generating them in Python: 10M cases are the generator's 1M, ten times as dense.
    Run with the secondary indexes dropped; returns the row counts."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        def columns(table: str) -> list[str]:
            return [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s ORDER BY ordinal_position", (table,))]

        case_columns = columns("cases")
        event_columns = columns("timeline_events")
        max_event = conn.execute("SELECT COALESCE(max(id), 0) FROM timeline_events").fetchone()[0]
        case_select = {
            "id": "c.id + k * %(seed)s",
            "tracking_no": "'GZ' || to_char(c.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || "
                           "upper(lpad(to_hex(c.id + k * %(seed)s), 7, '0'))",
        }
        event_select = {"id": "e.id + k * %(events)s", "subject_id": "e.subject_id + k * %(seed)s"}
        for k in range(1, copies):
            conn.execute(
                f"INSERT INTO cases ({', '.join(case_columns)}) SELECT "
                + ", ".join(case_select.get(c, f"c.{c}") for c in case_columns)
                + " FROM cases c CROSS JOIN (SELECT %(k)s AS k) kk WHERE c.id <= %(seed)s",
                {"seed": seed_cases, "k": k})
            conn.execute(
                f"INSERT INTO timeline_events ({', '.join(event_columns)}) SELECT "
                + ", ".join(event_select.get(c, f"e.{c}") for c in event_columns)
                + " FROM timeline_events e CROSS JOIN (SELECT %(k)s AS k) kk "
                  "WHERE e.subject_type = 'case' AND e.id <= %(events)s AND e.subject_id <= %(seed)s",
                {"seed": seed_cases, "events": max_event, "k": k})
        return {"cases": conn.execute("SELECT count(*) FROM cases").fetchone()[0],
                "timeline_events": conn.execute("SELECT count(*) FROM timeline_events").fetchone()[0]}
