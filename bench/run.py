"""The benchmark harness: one command builds the database, loads the dataset, drives load and writes RESULTS.md.

    .venv/bin/python bench/run.py                 # 1,000,000 cases, 20 s per load run
    .venv/bin/python bench/run.py --quick         # a smoke run: a few thousand rows, 5 s runs

Everything it measures is compared with the ceiling (bench/ceiling.py) measured in the same run.
It only ever talks to 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from bench import dataset  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
DB_NAME = "gongzhi_bench"
FANOUT_DB = "gongzhi_bench_fanout"
REDIS_URL = "redis://127.0.0.1:6379/13"
HOST = "127.0.0.1"
SECRET = "bench-secret-key-not-for-production-0123456789"
DATA_KEY = "bench-data-key-not-for-production-9876543210"  # production mode needs its own DATA_KEY
VENV_BIN = ROOT / ".venv" / "bin"
NOTIFY_SECTION = "## Notification fan-out"
# Kept from one run to the next: the hand-written reading of the profiles.
FINDINGS_START, FINDINGS_END = "<!-- findings -->", "<!-- /findings -->"

TARGETS = {
    "scan_ratio": 0.6, "scan_p99_ms": 50.0, "report_ratio": 0.3, "list_growth": 1.5, "rss_mb": 150.0,
    "fanout_per_s": 200.0,
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- processes -----------------------------------------------------------------------------------

class Procs:
    """Every process the harness starts, so each is stopped by its own id at the end."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.items: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        out = open(self.logdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.items.append((name, proc))
        return proc

    def stop(self, name_prefix: str = "") -> None:
        for name, proc in list(self.items):
            if name.startswith(name_prefix) and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in list(self.items):
            if not name.startswith(name_prefix):
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.items.remove((name, proc))


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def wait_http(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"nothing answered on {HOST}:{port}{path} within {timeout:.0f} s")


# -- database ------------------------------------------------------------------------------------

def create_database(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def migrate(url: str, env: dict) -> str:
    """`flask db upgrade`; if the migrations lag behind the models, rebuild with db.create_all()."""
    flask = str(VENV_BIN / "flask")
    up = subprocess.run([flask, "--app", "wsgi", "db", "upgrade"], env=env, cwd=ROOT, capture_output=True,
                        text=True)
    check = subprocess.run([flask, "--app", "wsgi", "db", "check"], env=env, cwd=ROOT, capture_output=True,
                           text=True)
    if up.returncode == 0 and check.returncode == 0:
        return "`flask --app wsgi db upgrade` (the migrations match the models: `flask db check` is clean)"
    text = check.stdout + check.stderr
    kinds = Counter(re.findall(r"\('((?:add|remove|modify)_\w+)'", text))
    tables = re.findall(r"\('add_table', Table\('(\w+)'", text)
    detail = ", ".join(f"{n} × {k}" for k, n in kinds.most_common()) or (up.stderr or text).strip()[-300:]
    if tables:
        detail += f" (missing tables: {', '.join(tables)})"
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    code = "from app import create_app\nfrom app.extensions import db\napp = create_app()\n" \
           "with app.app_context():\n    db.create_all()\n"
    subprocess.run([str(VENV_BIN / "python"), "-c", code], env=env, cwd=ROOT, check=True)
    return ("**the migrations lag behind the models** (`flask db upgrade` then `flask db check` reported: "
            f"{detail}), so the schema was built with `db.create_all()` instead")


def issue_tokens(app, user_ids: list[int]) -> dict[int, str]:
    from app.accounts.models import User
    from app.accounts.service import issue_token
    from app.extensions import db

    tokens = {}
    with app.app_context():
        for uid in user_ids:
            tokens[uid], _ = issue_token(db.session.get(User, uid))
        db.session.commit()
    return tokens


# -- load generation -----------------------------------------------------------------------------

def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    log("wrk is missing: apt-get install -y wrk")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, stdout=subprocess.DEVNULL)
    path = shutil.which("wrk")
    if not path:
        subprocess.run(["apt-get", "update"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
        path = shutil.which("wrk")
    return path


class Wrk:
    def __init__(self, binary: str, duration: int, connections: int):
        self.binary, self.duration, self.connections = binary, duration, connections
        self.masters: dict[int, int] = {}  # port -> gunicorn master pid

    def run(self, port: int, script: str, *args: str, duration: int | None = None) -> dict:
        """One wrk run; also the CPU time the server's worker processes spent per request."""
        pids = children(self.masters[port]) if port in self.masters else []
        cpu_before = sum(cpu_seconds(p) for p in pids)
        cmd = [self.binary, "-t", "2", "-c", str(self.connections), "-d", f"{duration or self.duration}s",
               "--timeout", "10s", "-s", str(BENCH / "lua" / script), f"http://{HOST}:{port}", "--", *args]
        env = os.environ | {"BENCH_LUA_DIR": str(BENCH / "lua")}
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=(duration or self.duration) + 60)
        match = re.search(r"BENCH_JSON (\{.*\})", out.stdout)
        if not match:
            raise SystemExit(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
        result = json.loads(match.group(1))
        result["errors"] = sum(v for k, v in result.items() if k.startswith("errors_"))
        if pids and result["requests"]:
            result["cpu_ms"] = (sum(cpu_seconds(p) for p in pids) - cpu_before) * 1000 / result["requests"]
        return result


def create_write_ceiling_table(url: str) -> None:
    """The table bench/ceiling.py's POST /write inserts into (not part of the app's schema)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_ceiling_writes (id bigserial PRIMARY KEY, body text NOT NULL, "
                     "created_at timestamptz NOT NULL DEFAULT now())")


def outbox_after(url: str, since: datetime, timeout: float = 120) -> dict:
    """What became of the notifications written since `since` (the report run's): polled until none
    is pending or in flight, so the delivery backlog a burst leaves behind is measured, not hidden."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            statuses = dict(conn.execute("SELECT status, count(*) FROM notifications WHERE created_at >= %s "
                                         "GROUP BY status", (since,)).fetchall())
            if not statuses.get("pending", 0) + statuses.get("sending", 0) or time.monotonic() - started > timeout:
                break
            time.sleep(0.2)
        cases = conn.execute("SELECT count(*) FROM cases WHERE created_at >= %s", (since,)).fetchone()[0]
    return {"cases": cases, "statuses": statuses, "drained_s": round(time.monotonic() - started, 1)}


def post_json(port: int, path: str, token: str, body: dict, timeout: float = 60, with_body: bool = False):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return (response.status, text) if with_body else response.status
    finally:
        conn.close()


def _rush(port: int, path: str, body: str, tokens: list[str]) -> tuple[float, Counter]:
    """Every token's request connects, waits at a barrier, then POSTs `body` to `path` at once; the statuses."""
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []
    lock = threading.Lock()

    def send(token: str) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            conn.connect()
            barrier.wait(timeout=60)
            conn.request("POST", path, body=body,
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            status = response.status
        except Exception:  # a dropped connection counts as a failure, not a crash of the harness
            status = 599
        finally:
            conn.close()
        with lock:
            statuses.append(status)

    started = time.monotonic()
    threads = [threading.Thread(target=send, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started, Counter(statuses)


def _server_errors(counts: Counter) -> int:
    return sum(v for k, v in counts.items() if k >= 500)


def claim_rush(port: int, wish_id: int, tokens: list[str]) -> dict:
    """All claimers connect, wait at a barrier, then claim at once."""
    seconds, counts = _rush(port, f"/mp/v1/wishes/{wish_id}/transitions", json.dumps({"action": "claim"}), tokens)
    return {"seconds": seconds, "counts": dict(counts), "winners": counts.get(200, 0),
            "conflicts": counts.get(409, 0), "server_errors": _server_errors(counts)}


def redemption_rush(port: int, item_id: int, tokens: list[str]) -> dict:
    """Every rush member redeems the scarce item of the points supermarket at once."""
    seconds, counts = _rush(port, f"/mp/v1/points/shop/items/{item_id}/redemptions", "", tokens)
    return {"seconds": seconds, "counts": dict(counts), "redeemed": counts.get(201, 0),
            "conflicts": counts.get(409, 0), "server_errors": _server_errors(counts)}


def multi_claims(port: int, claims: list[tuple[int, list[str]]], workers: int) -> dict:
    """Each wish's claimers are submitted together, so they race each other."""
    jobs = [(wish_id, token) for wish_id, tokens in claims for token in tokens]

    messages: Counter = Counter()

    def claim(job):
        wish_id, token = job
        try:
            status, body = post_json(port, f"/mp/v1/wishes/{wish_id}/transitions", token, {"action": "claim"},
                                     with_body=True)
        except OSError:
            return wish_id, 599
        if status != 200:
            try:
                messages[(status, json.loads(body).get("message"))] += 1
            except ValueError:
                messages[(status, body[:80])] += 1
        return wish_id, status

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(claim, jobs))
    seconds = time.monotonic() - started
    per_wish: dict[int, Counter] = {}
    for wish_id, status in results:
        per_wish.setdefault(wish_id, Counter())[status] += 1
    totals = Counter(status for _, status in results)
    one_winner = sum(1 for c in per_wish.values() if c.get(200, 0) == 1)
    return {"seconds": seconds, "claims": len(jobs), "wishes": len(per_wish), "one_winner": one_winner,
            "counts": dict(totals), "server_errors": sum(v for k, v in totals.items() if k >= 500),
            "rps": len(jobs) / seconds, "messages": {f"{k[0]} {k[1]}": v for k, v in messages.most_common(4)}}


# -- profiling -----------------------------------------------------------------------------------

def count_queries(app, calls: list[tuple[str, str, str | None, dict | None]]) -> dict[str, dict]:
    """Run each call once in-process and record its SQL statements (an N+1 shows up as a count)."""
    from sqlalchemy import event

    from app.extensions import db

    out: dict[str, dict] = {}
    with app.app_context():
        engine = db.engine
    statements: list[tuple[str, float]] = []
    starts: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        starts[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        took = time.perf_counter() - starts.pop(id(cursor), time.perf_counter())
        statements.append((" ".join(statement.split())[:160], took * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        client = app.test_client()
        for name, method, path, token, body in calls:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            client.open(path, method=method, headers=headers, json=body)  # warm
            statements.clear()
            response = client.open(path, method=method, headers=headers, json=body)
            out[name] = {"status": response.status_code, "queries": len(statements),
                         "sql_ms": sum(t for _, t in statements),
                         "slowest": sorted(statements, key=lambda s: -s[1])[:2]}
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return out


def pyspy(pid: int, seconds: int, out: Path) -> subprocess.Popen | None:
    binary = VENV_BIN / "py-spy"
    if not binary.exists():
        return None
    return subprocess.Popen([str(binary), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


PACKAGES = (("app/", "app"), ("miniprogram_api/", "miniprogram_api"), ("sqlalchemy/", "sqlalchemy"),
            ("psycopg", "psycopg"), ("marshmallow/", "marshmallow"), ("flask_smorest/", "flask_smorest"),
            ("apispec", "apispec"), ("werkzeug/", "werkzeug"), ("flask/", "flask"), ("redis/", "redis"),
            ("rq/", "rq"), ("itsdangerous", "itsdangerous"), ("json/", "json"), ("gunicorn/", "gunicorn"))


OWN_FRAME = re.compile(r"\((?:/[^()]*/)?(?:app|miniprogram_api|tasks)/[^()]*\.py:\d+\)")


def summarise_profile(path: Path) -> dict:
    """Self time by package and inclusive time of the project's own functions, from py-spy's raw stacks."""
    if not path.exists():
        return {}
    total, self_by_pkg, inclusive = 0, Counter(), Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if any("gunicorn/workers/sync.py" in f and "wait" in f.split(" ")[0] for f in frames[-1:]):
            continue  # idle in accept()
        total += n
        leaf = frames[-1]
        self_by_pkg[next((label for key, label in PACKAGES if key in leaf), "other")] += n
        seen = set()
        for frame in frames:
            if OWN_FRAME.search(frame):
                name = re.sub(r":\d+\)", ")", frame.replace(str(ROOT) + "/", ""))
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += n
    if not total:
        return {}
    return {"samples": total,
            "self_by_package": [(k, round(100 * v / total, 1)) for k, v in self_by_pkg.most_common(8)],
            "top_own": [(k, round(100 * v / total, 1)) for k, v in inclusive.most_common(10)]}


# -- the run ---------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="a small smoke run: few rows, short load runs")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run (20; 5 with --quick)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--ceiling-port", type=int, default=8101)
    parser.add_argument("--fanout-messages", type=int, default=None, help="10,000; 1,000 with --quick")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    args = parser.parse_args()
    quick = args.quick
    cases_total = args.cases if not quick or args.cases != 1_000_000 else 20_000
    duration = args.duration or (5 if quick else 20)
    fanout_messages = args.fanout_messages or (1000 if quick else 10_000)
    command = "cd " + str(ROOT) + " && .venv/bin/python bench/run.py " + " ".join(sys.argv[1:])
    started_all = time.monotonic()
    results: dict = {"command": command.strip(), "quick": quick, "duration": duration,
                     "connections": args.connections, "cases_total": cases_total}

    workdir = BENCH / ".run"
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "logs").mkdir(parents=True)
    procs = Procs(workdir / "logs")
    wrk = Wrk(ensure_wrk(), duration, args.connections)

    url = create_database(DB_NAME)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")} | {
        "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "GONGZHI_ENV": "production", "SECRET_KEY": SECRET,
        "DATA_KEY": DATA_KEY, "RATELIMIT_ENABLED": "false", "PYTHONPATH": str(ROOT), "INSTANCE_DIR": str(workdir / "instance"),
        "MEDIA_DIR": str(workdir / "media"), "PUBLIC_BASE_URL": f"http://{HOST}:{args.port}",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "GONGZHI_ENV", "SECRET_KEY", "DATA_KEY",
                                          "RATELIMIT_ENABLED", "INSTANCE_DIR", "MEDIA_DIR")})
    for k in [k for k in os.environ if k.startswith("WECHAT_")]:
        del os.environ[k]
    log(f"database {DB_NAME}: migrating")
    results["schema"] = migrate(url, env)
    log(f"schema: {results['schema']}")
    create_write_ceiling_table(url)

    from app import create_app
    from app.extensions import db

    app = create_app()
    sizes = dataset.Sizes.quick(cases_total) if quick else dataset.Sizes(cases=cases_total)
    loader = dataset.Loader(url, db.metadata, sizes)
    t = time.monotonic()
    world = loader.load_base()
    first_cases = min(10_000, cases_total)
    loader.load_cases(first_cases, cases_total)
    dataset.fix_sequences(url, db.metadata.tables)
    dataset.vacuum_analyze(url)
    results["load_base_s"] = time.monotonic() - t
    log(f"base data + {first_cases} cases loaded in {results['load_base_s']:.1f} s")

    # tokens: residents for reports, members for claims, staff for the case lists
    community_path = world.communities[0][1]
    street_path = world.streets[0][1]
    staff = {"community": world.community_admins[community_path], "street": world.street_admins[street_path]}
    resident_ids = list(world.residents[:sizes.residents_with_tokens])
    claimer_ids = sorted({u for _, us in world.multi_claims for u in us})
    t = time.monotonic()
    tokens = issue_tokens(app, resident_ids + world.rush_members + claimer_ids + list(staff.values()))
    results["tokens_s"] = time.monotonic() - t
    results["tokens"] = len(tokens)
    (workdir / "scenes.txt").write_text("\n".join(world.scenes) + "\n")
    (workdir / "tokens.txt").write_text("\n".join(tokens[u] for u in resident_ids) + "\n")
    log(f"{len(tokens)} tokens issued in {results['tokens_s']:.1f} s (written to {workdir / 'tokens.txt'})")

    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    gunicorn = str(VENV_BIN / "gunicorn")
    app_master = procs.start("app", [gunicorn, "-w", "2", "-b", f"{HOST}:{args.port}", "--backlog", "2048",
                                     "wsgi:app"], env)
    for i in range(2):
        procs.start(f"rq{i}", [str(VENV_BIN / "rq"), "worker", "-w", "tasks.worker.AppWorker", "notify", "default",
                               "--url", REDIS_URL], env)
    ceiling_master = procs.start("ceiling", [gunicorn, "-w", "2", "-b", f"{HOST}:{args.ceiling_port}",
                                             "bench.ceiling:app"], env | {"BENCH_DATABASE_URL": url})
    wrk.masters = {args.port: app_master.pid, args.ceiling_port: ceiling_master.pid}
    try:
        wait_http(args.port, "/healthz")
        wait_http(args.ceiling_port, "/hello")
        max_place = len(world.places)

        def ceiling_pair(label: str) -> None:
            wrk.run(args.ceiling_port, "row.lua", str(max_place), duration=2)  # warm
            results[f"hello_{label}"] = wrk.run(args.ceiling_port, "get.lua", "/hello")
            results[f"ceiling_{label}"] = wrk.run(args.ceiling_port, "row.lua", str(max_place))
            log(f"[{label}] hello {results[f'hello_{label}']['rps']:.0f} req/s, "
                f"ceiling {results[f'ceiling_{label}']['rps']:.0f} req/s")

        def case_lists(label: str) -> None:
            top = loader.world.cases_loaded
            deep = base64.urlsafe_b64encode(f"k1:{top // 2}".encode()).decode().rstrip("=")
            for scope in ("community", "street"):
                token = tokens[staff[scope]]
                for page, path in (("first", "/mp/v1/cases"), ("deep", f"/mp/v1/cases?cursor={deep}")):
                    wrk.run(args.port, "get.lua", path, token, duration=2)  # warm
                    key = f"list_{scope}_{page}_{label}"
                    results[key] = wrk.run(args.port, "get.lua", path, token)
                    log(f"[{label}] case list {scope}/{page}: {results[key]['rps']:.0f} req/s, "
                        f"p95 {results[key]['p95_ms']:.1f} ms, errors {results[key]['errors']}")

        ceiling_pair("10k")
        case_lists("10k")

        if cases_total > first_cases:
            log(f"loading the remaining {cases_total - first_cases} cases (secondary indexes rebuilt after)")
            t = time.monotonic()
            indexes = dataset.secondary_indexes(url, ["cases", "timeline_events"])
            dataset.drop_indexes(url, indexes)
            loader.load_cases(cases_total, cases_total)
            t_rows = time.monotonic() - t
            dataset.create_indexes(url, indexes)
            dataset.fix_sequences(url, ["cases", "timeline_events"])
            dataset.vacuum_analyze(url, ["cases", "timeline_events"])
            results["load_rest_s"] = time.monotonic() - t
            results["load_rest_rows_s"] = t_rows
            log(f"rest loaded in {results['load_rest_s']:.1f} s ({t_rows:.1f} s of COPY)")
        results["cases_loaded"] = loader.world.cases_loaded
        results["timeline_events"] = loader.world.next_ids["timeline_events"] - 1
        results["load_total_s"] = results["load_base_s"] + results.get("load_rest_s", 0)

        ceiling_pair("full")
        case_lists("full")

        scenes_file = str(workdir / "scenes.txt")
        wrk.run(args.port, "scan.lua", scenes_file, duration=2)
        results["scan"] = wrk.run(args.port, "scan.lua", scenes_file)
        log(f"scan: {results['scan']['rps']:.0f} req/s, p99 {results['scan']['p99_ms']:.1f} ms, "
            f"errors {results['scan']['errors']}")
        cats = ",".join(str(c) for c in world.categories)
        report_since = datetime.now(UTC)
        jobs_before = redis.Redis.from_url(REDIS_URL).zcard("rq:finished:notify")
        results["report"] = wrk.run(args.port, "report.lua", scenes_file, str(workdir / "tokens.txt"), cats)
        results["report_outbox"] = outbox_after(url, report_since)
        results["report_outbox"]["jobs"] = redis.Redis.from_url(REDIS_URL).zcard("rq:finished:notify") - jobs_before
        log(f"report outbox: {results['report_outbox']}")
        wrk.run(args.ceiling_port, "write.lua", duration=2)
        results["write_ceiling"] = wrk.run(args.ceiling_port, "write.lua")
        log(f"write ceiling: {results['write_ceiling']['rps']:.0f} req/s")
        log(f"report: {results['report']['rps']:.0f} req/s, p99 {results['report']['p99_ms']:.1f} ms, "
            f"errors {results['report']['errors']}")

        results["rush"] = claim_rush(args.port, world.rush_wish, [tokens[u] for u in world.rush_members])
        log(f"claim rush: {results['rush']}")
        results["redemption"] = redemption_rush(args.port, world.rush_item, [tokens[u] for u in world.rush_members])
        log(f"redemption rush: {results['redemption']}")
        claims = [(w, [tokens[u] for u in us]) for w, us in world.multi_claims]
        results["multi"] = multi_claims(args.port, claims, workers=args.connections)
        log(f"{len(claims)} wishes × {sizes.claimers_per_wish}: {results['multi']}")

        if not args.no_profile:
            results["profiles"] = profile(app, args, wrk, procs, workdir, world, tokens, staff, app_master, cats)

        time.sleep(1)
        results["memory"] = memory(app_master, ceiling_master, procs)
        log(f"memory: {results['memory']}")
    finally:
        procs.stop()

    results["fanout"] = fanout(fanout_messages, workdir)
    log(f"fan-out: {results['fanout'].get('summary')}")
    results["wall_s"] = time.monotonic() - started_all
    write_results(Path(args.results), results, sizes)
    log(f"done in {results['wall_s'] / 60:.1f} min; results in {args.results}")
    return 0


def profile(app, args, wrk: Wrk, procs: Procs, workdir: Path, world, tokens, staff, app_master, cats) -> dict:
    out: dict = {}
    community_token = tokens[staff["community"]]
    street_token = tokens[staff["street"]]
    resident_token = tokens[world.residents[0]]
    calls = [
        ("scan", "GET", f"/mp/v1/scan/{world.scenes[0]}", None, None),
        ("report", "POST", "/mp/v1/cases", resident_token,
         {"scene": world.scenes[1], "category_id": world.categories[0], "description": "楼道堆放杂物"}),
        ("list (community)", "GET", "/mp/v1/cases", community_token, None),
        ("list (street)", "GET", "/mp/v1/cases", street_token, None),
    ]
    try:
        out["queries"] = count_queries(app, calls)
    except Exception as exc:  # the profile is a report, not a gate
        out["queries_error"] = repr(exc)
    workers = children(app_master.pid)
    if not workers:
        return out
    seconds = 8
    runs = {
        "scan": ("scan.lua", [str(workdir / "scenes.txt")]),
        "report": ("report.lua", [str(workdir / "scenes.txt"), str(workdir / "tokens.txt"), cats]),
        "list (street, first page)": ("get.lua", ["/mp/v1/cases", street_token]),
    }
    out["pyspy"] = {}
    for name, (script, script_args) in runs.items():
        target = workdir / f"profile-{re.sub(r'[^a-z]+', '-', name)}.txt"
        spy = pyspy(workers[0], seconds, target)
        if spy is None:
            out["pyspy_error"] = "py-spy is not installed (pip install -e '.[bench]')"
            break
        time.sleep(0.5)
        wrk.run(args.port, script, *script_args, duration=seconds)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
        out["pyspy"][name] = summarise_profile(target)
        if not out["pyspy"][name]:
            out["pyspy_error"] = "py-spy recorded nothing (does this container allow ptrace?)"
    return out


def memory(app_master, ceiling_master, procs: Procs) -> dict:
    rows = {}
    rows["gunicorn app master"] = rss_mb(app_master.pid)
    for i, pid in enumerate(children(app_master.pid)):
        rows[f"gunicorn app worker {i + 1}"] = rss_mb(pid)
    for name, proc in procs.items:
        if name.startswith("rq"):
            rows[f"rq worker {name[2:]}"] = rss_mb(proc.pid)
    for i, pid in enumerate(children(ceiling_master.pid)):
        rows[f"ceiling worker {i + 1}"] = rss_mb(pid)
    return rows


def fanout(messages: int, workdir: Path) -> dict:
    """The notifications engineer's benchmark (bench/notify_fanout.py), run as it is, on its own database."""
    script = BENCH / "notify_fanout.py"
    if not script.exists():
        return {"error": "bench/notify_fanout.py does not exist"}
    import redis

    url = create_database(FANOUT_DB)
    redis.Redis.from_url(REDIS_URL).flushdb()
    cmd = [str(VENV_BIN / "python"), str(script), "--messages", str(messages), "--workers", "2",
           "--latency", "0.05", "--timeout", "300", "--database-url", url, "--redis-url", REDIS_URL]
    t = time.monotonic()
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=420,
                             env=os.environ | {"PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 420 s", "command": " ".join(cmd)}
    (workdir / "logs" / "fanout.log").write_text(out.stdout + out.stderr)
    parsed = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition("  ")
        if value.strip():
            parsed[key.strip()] = value.strip()
    return {"returncode": out.returncode, "seconds": time.monotonic() - t, "fields": parsed,
            "summary": parsed.get("throughput"), "command": " ".join(cmd[1:]).replace(str(ROOT) + "/", ""),
            "stderr_tail": out.stderr.strip().splitlines()[-3:] if out.returncode else []}


# -- RESULTS.md ------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                          if x.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        mem_kb = 0
    load = os.getloadavg()
    pg = subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-Atc", "SHOW server_version"], capture_output=True,
                        text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "postgres": pg, "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"}


def _redemption_line(r: dict, sizes) -> list[str]:
    red = r.get("redemption")
    if red is None:
        return []
    stock = dataset.REDEMPTION_STOCK
    ok = red["redeemed"] == stock and red["conflicts"] == sizes.rush_members - stock and not red["server_errors"]
    return [f"- Redemption rush (积分超市): {sizes.rush_members} members, each with enough points, redeem one item "
            f"with {stock} in stock at once: {red['redeemed']} redeemed, {red['conflicts']} × 409, "
            f"{red['server_errors']} × 5xx (all statuses: {red['counts']}) in {red['seconds']:.2f} s — "
            f"**{_ok(ok)}** (target {stock} redeemed, {sizes.rush_members - stock} × 409, 0 × 5xx)."]


def _ok(flag: bool) -> str:
    return "PASS" if flag else "FAIL"


def write_results(path: Path, r: dict, sizes) -> None:
    m = machine()
    ceiling = r["ceiling_full"]["rps"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/run.py` on {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}"
        + (" — **a `--quick` smoke run: small data, short runs; not the real figures**" if r["quick"] else "") + ".",
        "",
        "```",
        r["command"],
        "```",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gb']} GB RAM; Python {m['python']}, "
        f"PostgreSQL {m['postgres']}, Redis for the queues; load average after the run {m['load']}.",
        "- The machine is shared: other engineers ran test suites during the run, and wrk itself runs on the "
        "same 2 cores as the app, PostgreSQL and Redis. Absolute numbers are noisy; the ratios to the ceiling, "
        "measured minutes apart in the same run, are what to compare.",
        f"- Load: wrk, 2 threads, {r['connections']} connections, {r['duration']} s per measurement after a 2 s "
        "warm-up; app under gunicorn, 2 sync workers, GONGZHI_ENV=production, rate limits off, WeChat in "
        "console mode; 2 rq workers (`-w tasks.worker.AppWorker notify default`).",
        f"- Schema: {r['schema']}.",
        f"- Data: {sizes.streets} streets, {sizes.communities} communities, {sizes.grids} grids, {sizes.places:,} "
        f"places with codes, {sizes.users:,} users (staff and {sizes.rush_members + sizes.communities * 40:,} "
        f"approved party members included), {r['cases_loaded']:,} cases with {r['timeline_events']:,} timeline "
        f"events, {sizes.wishes:,} wishes (+ {sizes.multi_wishes + 1:,} for the claim tests). Loaded by COPY in "
        f"{r['load_total_s']:.0f} s (base + first 10,000 cases {r['load_base_s']:.0f} s"
        + (f", the other {r['cases_loaded'] - 10_000:,} cases {r['load_rest_s']:.0f} s including index rebuild"
           if "load_rest_s" in r else "") + f"); {r['tokens']:,} tokens issued with `issue_token` in "
        f"{r['tokens_s']:.0f} s. Whole run: {r['wall_s'] / 60:.1f} min.",
        "",
        "## Figures",
        "",
        "| measurement | req/s | p50 ms | p95 ms | p99 ms | errors | ratio to ceiling | worker CPU ms/req | "
        "CPU ratio | target | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    ceiling_cpu = r["ceiling_full"].get("cpu_ms")

    def cpu(x) -> tuple[str, str]:
        if not x.get("cpu_ms") or not ceiling_cpu:
            return "–", "–"
        return f"{x['cpu_ms']:.2f}", f"{ceiling_cpu / x['cpu_ms']:.2f}×"

    def row(label, x, target="", result=""):
        ratio = x["rps"] / ceiling if ceiling else 0
        cpu_ms, cpu_ratio = cpu(x)
        lines.append(f"| {label} | {x['rps']:.0f} | {x['p50_ms']:.1f} | {x['p95_ms']:.1f} | {x['p99_ms']:.1f} | "
                     f"{x['errors']} | {ratio:.2f}× | {cpu_ms} | {cpu_ratio} | {target} | {result} |")
        return ratio

    row("hello-world (bare Flask JSON)", r["hello_full"])
    row("**ceiling**: Flask + one indexed row read", r["ceiling_full"], "", "reference")
    scan = r["scan"]
    scan_ratio = scan["rps"] / ceiling
    row("Scan `GET /mp/v1/scan/{scene}`", scan, "≥ 0.6×, p99 ≤ 50 ms",
        _ok(scan_ratio >= TARGETS["scan_ratio"] and scan["p99_ms"] <= TARGETS["scan_p99_ms"] and not scan["errors"]))
    rep = r["report"]
    rep_ratio = rep["rps"] / ceiling
    row("Report `POST /mp/v1/cases` (Idempotency-Key)", rep, "≥ 0.3×",
        _ok(rep_ratio >= TARGETS["report_ratio"] and not rep["errors"]))
    if "write_ceiling" in r:
        row("write ceiling: Flask + one committed INSERT (information)", r["write_ceiling"], "", "reference")
    outbox = r.get("report_outbox")
    if outbox:
        waiting = outbox["statuses"].get("pending", 0) + outbox["statuses"].get("sending", 0)
        lines += ["", f"The report run filed {outbox['cases']:,} cases and wrote "
                  f"{sum(outbox['statuses'].values()):,} notifications (to each case's grid workers); "
                  + (f"{waiting:,} were still waiting" if waiting else "none was left waiting")
                  + f" {outbox['drained_s']:.1f} s after the run ended, delivered by {outbox.get('jobs', 0):,} "
                  f"pump jobs (statuses {outbox['statuses']}; console mode records a delivery as `skipped`)."]
    lines += ["", "*Worker CPU ms/req* is the user + system CPU time of the two gunicorn workers during the run "
              "divided by the requests served; *CPU ratio* is the ceiling's CPU per request divided by this one. "
              "It is far less sensitive than req/s to other processes competing for the cores, and it says what "
              "req/s ratio the endpoint would reach on an otherwise idle machine if it were CPU-bound.",
              "", f"The ceiling measured before loading the big case table (at 10,000 cases): "
              f"{r['ceiling_10k']['rps']:.0f} req/s, hello-world {r['hello_10k']['rps']:.0f} req/s.", "",
              f"### Case list (staff), at 10,000 and at {r['cases_loaded']:,} cases", "",
              "| scope / page | req/s 10k | p95 ms 10k | CPU ms/req 10k | req/s full | p95 ms full | CPU ms/req full "
              "| errors | p95 full ÷ p95 10k | target | result |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for scope in ("community", "street"):
        for page in ("first", "deep"):
            a, b = r[f"list_{scope}_{page}_10k"], r[f"list_{scope}_{page}_full"]
            growth = b["p95_ms"] / a["p95_ms"] if a["p95_ms"] else 0
            lines.append(f"| {scope} admin, {page} page | {a['rps']:.0f} | {a['p95_ms']:.1f} | {cpu(a)[0]} | "
                         f"{b['rps']:.0f} | {b['p95_ms']:.1f} | {cpu(b)[0]} | {a['errors'] + b['errors']} | {growth:.2f} | ≤ 1.5 | "
                         f"{_ok(growth <= TARGETS['list_growth'] and not (a['errors'] or b['errors']))} |")
    lines += ["", "The deep page is the cursor `k1:<half the highest case id>`, i.e. half-way down the table.",
              "A community admin's scope holds 1 % of the cases, a street admin's 10 %.", ""]

    rush, multi = r["rush"], r["multi"]
    rush_ok = rush["winners"] == 1 and rush["conflicts"] == sizes.rush_members - 1 and not rush["server_errors"]
    lines += ["### Claim rush", "",
              f"- {sizes.rush_members} concurrent claims of one wish, by {sizes.rush_members} different approved "
              f"party members, released together from a barrier: {rush['winners']} winner, {rush['conflicts']} × "
              f"409, {rush['server_errors']} × 5xx (all statuses: {rush['counts']}) in {rush['seconds']:.2f} s — "
              f"**{_ok(rush_ok)}** (target 1 winner, {sizes.rush_members - 1} × 409, 0 × 5xx).",
              *_redemption_line(r, sizes),
              f"- {multi['wishes']:,} wishes × {sizes.claimers_per_wish} claimers ({multi['claims']:,} claims, "
              f"{r['connections']} client threads, each wish's claimers submitted together): {multi['seconds']:.1f} s "
              f"in total ({multi['rps']:.0f} claims/s); wishes with exactly one winner: {multi['one_winner']:,} of "
              f"{multi['wishes']:,}; statuses {multi['counts']}; the losers were told {multi.get('messages')} — **"
              f"{_ok(multi['one_winner'] == multi['wishes'] and not multi['server_errors'])}**.", ""]

    mem = r["memory"]
    worst = max((v for k, v in mem.items() if v and "ceiling" not in k), default=0)
    lines += ["### Memory (RSS after the run)", "", "| process | RSS MB |", "|---|---:|"]
    lines += [f"| {k} | {v:.0f} |" if v else f"| {k} | gone |" for k, v in mem.items()]
    lines += ["", f"Largest app or rq process: {worst:.0f} MB — **{_ok(worst <= TARGETS['rss_mb'])}** "
              "(target ≤ 150 MB).", ""]

    f = r["fanout"]
    lines += ["### Fan-out", ""]
    if "fields" in f:
        fields = f["fields"]
        rate = float((re.match(r"[\d.]+", fields.get("throughput", "")) or [0])[0])
        ok = f["returncode"] == 0 and rate >= TARGETS["fanout_per_s"]
        lines += [f"`{f['command']}` (the notifications engineer's `bench/notify_fanout.py`, run unchanged on its "
                  f"own database `{FANOUT_DB}` after the app was stopped):", ""]
        lines += [f"- {k}: {v}" for k, v in fields.items()]
        lines += ["", f"Result: **{_ok(ok)}** (target from the notifications issue: ≥ 200 messages/s end to end, "
                  "0 lost, 0 sent twice)."
                  + (f" stderr: {f['stderr_tail']}" if f.get("stderr_tail") else ""), ""]
    else:
        lines += [f"Not measured: {f.get('error')}.", ""]

    lines += profile_section(r.get("profiles", {}))
    old = path.read_text() if path.exists() else ""
    if FINDINGS_START in old and FINDINGS_END in old:
        lines += [old[old.index(FINDINGS_START):old.index(FINDINGS_END) + len(FINDINGS_END)], ""]
    if NOTIFY_SECTION in old:
        kept = old[old.index(NOTIFY_SECTION):]
        lines += ["", kept.rstrip()]
    path.write_text("\n".join(lines).rstrip() + "\n")
    (BENCH / ".run" / "results.json").write_text(json.dumps(r, indent=1, default=str))


def profile_section(p: dict) -> list[str]:
    lines = ["## What the profiles show", ""]
    if not p:
        return lines + ["Profiling was skipped (`--no-profile`).", ""]
    if "queries" in p:
        lines += ["SQL statements per request (one request, in-process, against the loaded database):", "",
                  "| request | status | statements | SQL ms | slowest statement |", "|---|---:|---:|---:|---|"]
        for name, q in p["queries"].items():
            slow = q["slowest"][0] if q["slowest"] else ("", 0)
            lines.append(f"| {name} | {q['status']} | {q['queries']} | {q['sql_ms']:.1f} | "
                         f"`{slow[0][:110]}` ({slow[1]:.1f} ms) |")
        lines.append("")
    if p.get("queries_error"):
        lines += [f"Query count failed: {p['queries_error']}", ""]
    for name, s in p.get("pyspy", {}).items():
        if not s:
            continue
        lines += [f"py-spy, one gunicorn worker under load — **{name}** ({s['samples']} samples):", "",
                  "- own time by package: " + ", ".join(f"{k} {v} %" for k, v in s["self_by_package"]),
                  "- the project's functions, inclusive time: "
                  + "; ".join(f"`{k}` {v} %" for k, v in s["top_own"][:8]), ""]
    if p.get("pyspy_error"):
        lines += [p["pyspy_error"], ""]
    return lines


if __name__ == "__main__":
    sys.exit(main())
