"""Two app nodes behind nginx: does throughput add up, and does anything depend on the node?

    .venv/bin/python bench/nodes.py            # a small county (20,000 cases), 10 s per wrk run
    .venv/bin/python bench/nodes.py --write    # the same, and the section in bench/RESULTS.md

Two gunicorn nodes of the app (2 sync workers each, different ports) share one PostgreSQL database
(`gongzhi_bench_nodes`, loaded by bench/dataset.py) and one Redis db. Debian's nginx runs as a child
process with its own configuration and prefix in a temporary directory, on loopback, with an
`upstream` of both nodes (round-robin) and a second listener whose upstream is node A alone.

1. Throughput (rate limits off, as in bench/run.py): the scan and a street admin's case list, with
   wrk on node A directly, on node A through nginx, and on both nodes through nginx; req/s, p95, and
   the workers' CPU ms per request for each node (requests per node counted from nginx's log).
2. Nothing depends on the node (the nodes restarted with rate limits on, Redis storage, and WeChat
   pointed at tests/fake_wechat.py's server on loopback): a console session made on one node used on
   the other, an API token likewise, a rate limit counted across both nodes, scan tallies that add
   up after the nodes flush, and the WeChat access token fetched once for both nodes.
   Each check prints PASS or FAIL with its figures.

It only talks to 127.0.0.1, stops every process it started, and exits 1 if a check failed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dataset  # noqa: E402
from bench.run import (  # noqa: E402
    BENCH,
    DATA_KEY,
    HOST,
    SECRET,
    VENV_BIN,
    Procs,
    children,
    cpu_seconds,
    create_database,
    ensure_wrk,
    issue_tokens,
    migrate,
    wait_http,
)
from tests.fake_wechat import APPID, FakeWeChat  # noqa: E402
from tests.fake_wechat import SECRET as WECHAT_SECRET  # noqa: E402

DB_NAME = "gongzhi_bench_nodes"
REDIS_URL = "redis://127.0.0.1:6379/12"
NGINX = "/usr/sbin/nginx"
START, END = "<!-- nodes -->", "<!-- /nodes -->"
STAFF_PASSWORD = "Bench-nodes-2026"


def log(msg: str) -> None:
    print(f"[nodes {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- nginx -----------------------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format node '$upstream_addr $status';
    access_log {prefix}/access.log node;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream both {{ server {host}:{a}; server {host}:{b}; }}
    upstream node_a {{ server {host}:{a}; }}
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    add_header X-Node $upstream_addr always;
    server {{ listen {host}:{both}; location / {{ proxy_pass http://both; }} }}
    server {{ listen {host}:{one}; location / {{ proxy_pass http://node_a; }} }}
}}
"""


class Nginx:
    """nginx in the foreground (daemon off) as a child, with its own prefix; its log says which node
    served each request."""

    def __init__(self, procs: Procs, prefix: Path, ports: dict[str, int]):
        self.prefix, self.ports = prefix, ports
        prefix.mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, host=HOST, **ports))
        subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                       check=True, capture_output=True)
        self.proc = procs.start("nginx", [NGINX, "-p", str(prefix), "-c", str(conf), "-e",
                                          str(prefix / "error.log")], os.environ.copy())
        self.log = prefix / "access.log"

    def mark(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def served_since(self, mark: int) -> Counter:
        """Requests per upstream address (host:port) logged since `mark`."""
        with open(self.log, "rb") as f:
            f.seek(mark)
            lines = f.read().decode().splitlines()
        return Counter(line.split()[0] for line in lines if line.strip())


# -- HTTP helpers ------------------------------------------------------------------------------------

def request(port: int, method: str, path: str, *, headers: dict | None = None, body: bytes | str | None = None,
            cookie: str | None = None) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = dict(headers or {})
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        text = res.read().decode("utf-8", "replace")
        return res.status, {k.lower(): v for k, v in res.getheaders()} | {
            "set-cookie-all": res.headers.get_all("Set-Cookie") or []}, text
    finally:
        conn.close()


def session_cookie(headers: dict, current: str | None) -> str | None:
    for raw in headers.get("set-cookie-all", []):
        pair = raw.split(";", 1)[0]
        if pair.startswith("gz_session="):  # the portal's cookie name (app/portal/__init__.py)
            return pair
    return current


def node_of(headers: dict) -> str:
    return headers.get("x-node", "?")


# -- the nodes ---------------------------------------------------------------------------------------

CGROUP_CPU = Path("/sys/fs/cgroup/cpu")  # the cgroup v1 cpu controller (cfs quota), as on this machine


class Nodes:
    def __init__(self, procs: Procs, env: dict, ports: list[int], workdir: Path, cpus: float = 0.0):
        self.procs, self.env, self.ports, self.workdir = procs, env, ports, workdir
        self.masters: dict[int, int] = {}
        # With cpus > 0 each node (master and workers) runs in a cgroup of its own capped at that many cores,
        # as a small machine of its own would be: then a second node brings its own capacity.
        self.cpus = cpus
        if cpus and not (CGROUP_CPU / "cgroup.procs").exists():
            raise SystemExit(f"--node-cpus needs the cgroup v1 cpu controller at {CGROUP_CPU}, writable (run as root)")

    def start(self, label: str, extra: dict) -> None:
        for i, port in enumerate(self.ports):
            name = "AB"[i]
            env = self.env | extra | {"INSTANCE_DIR": str(self.workdir / f"instance-{name}")}
            proc = self.procs.start(f"node{name}-{label}", [str(VENV_BIN / "gunicorn"), "-w", "2", "-b",
                                                            f"{HOST}:{port}", "--backlog", "2048", "wsgi:app"], env)
            self.masters[port] = proc.pid
        for port in self.ports:
            wait_http(port, "/healthz")
        if self.cpus:
            for i, port in enumerate(self.ports):
                group = CGROUP_CPU / f"gongzhi-node-{'AB'[i]}"
                group.mkdir(exist_ok=True)
                (group / "cpu.cfs_period_us").write_text("100000")
                (group / "cpu.cfs_quota_us").write_text(str(int(self.cpus * 100_000)))
                for pid in [self.masters[port], *children(self.masters[port])]:
                    (group / "cgroup.procs").write_text(str(pid))

    def stop(self) -> None:
        """SIGTERM and wait: each worker pushes its scan tally to Redis as it exits."""
        self.procs.stop("node")
        self.masters = {}
        for i in range(len(self.ports)):
            group = CGROUP_CPU / f"gongzhi-node-{'AB'[i]}"
            if group.exists():
                group.rmdir()

    def workers(self, port: int) -> list[int]:
        return children(self.masters[port])


def wrk_run(binary: str, url_port: int, script: str, args: list[str], duration: int, connections: int) -> dict:
    cmd = [binary, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", "-s",
           str(BENCH / "lua" / script), f"http://{HOST}:{url_port}", "--", *args]
    out = subprocess.run(cmd, env=os.environ | {"BENCH_LUA_DIR": str(BENCH / "lua")}, capture_output=True,
                         text=True, timeout=duration + 60)
    match = re.search(r"BENCH_JSON (\{.*\})", out.stdout)
    if not match:
        raise SystemExit(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    result = json.loads(match.group(1))
    result["errors"] = sum(v for k, v in result.items() if k.startswith("errors_"))
    return result


def measure(wrk: str, nodes: Nodes, nginx: Nginx, port: int, script: str, args: list[str], duration: int,
            connections: int) -> dict:
    """One wrk run (after a 2 s warm-up) and, per node, the requests it served and its workers' CPU."""
    wrk_run(wrk, port, script, args, 2, connections)
    pids = {p: nodes.workers(p) for p in nodes.ports}
    before = {p: sum(cpu_seconds(x) for x in pids[p]) for p in nodes.ports}
    mark = nginx.mark()
    result = wrk_run(wrk, port, script, args, duration, connections)
    served = nginx.served_since(mark)
    result["nodes"] = {}
    for p in nodes.ports:
        cpu_s = sum(cpu_seconds(x) for x in pids[p]) - before[p]
        requests = result["requests"] if port == p else served.get(f"{HOST}:{p}", 0)
        result["nodes"][p] = {"requests": requests, "cpu_s": round(cpu_s, 2),
                              "cpu_ms": round(cpu_s * 1000 / requests, 2) if requests else None}
    return result


# -- the checks --------------------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.rows: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, figures: str) -> None:
        self.rows.append((name, ok, figures))
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {figures}", flush=True)

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.rows)


def check_console_session(checks: Checks, a: int, b: int, both: int, username: str) -> None:
    status, headers, page = request(a, "GET", "/console/login")
    cookie = session_cookie(headers, None)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = urlencode({"csrf_token": token.group(1) if token else "", "username": username,
                      "password": STAFF_PASSWORD})
    status, headers, _ = request(b, "POST", "/console/login", body=form, cookie=cookie,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    cookie = session_cookie(headers, cookie)
    login_ok = status == 302 and "/console" in headers.get("location", "")
    dash_a, _, page_a = request(a, "GET", "/console/", cookie=cookie)
    through = Counter()
    for _ in range(6):
        s, h, _ = request(both, "GET", "/console/", cookie=cookie)
        through[(node_of(h), s)] += 1
    ok = login_ok and dash_a == 200 and \
        all(s == 200 for (_, s) in through) and len({n for n, _ in through}) == 2
    checks.add("console session (login form from node A, CSRF checked and signed in on node B, dashboard on A "
               "and on both through nginx)", ok,
               f"form GET A 200, login POST B → {status} {headers.get('location', '')}, dashboard on A → {dash_a}, "
               f"through nginx {dict(through)}")


def check_api_token(checks: Checks, a: int, b: int, both: int, username: str) -> None:
    status, _, text = request(a, "POST", "/mp/v1/auth/password", headers={"Content-Type": "application/json"},
                              body=json.dumps({"username": username, "password": STAFF_PASSWORD}))
    token = json.loads(text).get("access_token", "") if status == 200 else ""
    auth = {"Authorization": f"Bearer {token}"}
    on_b, _, _ = request(b, "GET", "/mp/v1/cases", headers=auth)
    through = Counter()
    for _ in range(6):
        s, h, _ = request(both, "GET", "/mp/v1/cases", headers=auth)
        through[(node_of(h), s)] += 1
    out_status, _, _ = request(b, "POST", "/mp/v1/auth/logout", headers=auth)
    after = Counter()
    for _ in range(4):
        s, h, _ = request(both, "GET", "/mp/v1/cases", headers=auth)
        after[(node_of(h), s)] += 1
    ok = (status == 200 and on_b == 200 and all(s == 200 for (_, s) in through) and len(through) == 2
          and out_status == 204 and all(s == 401 for (_, s) in after) and len(after) == 2)
    checks.add("API token (issued by node A, used on node B and on both; logout on B ends it on both)", ok,
               f"login A → {status}, case list on B → {on_b}, through nginx {dict(through)}, logout on B → "
               f"{out_status}, then through nginx {dict(after)}")


def check_idempotency(checks: Checks, a: int, b: int, token: str, scene: str, category: int) -> None:
    """A report sent to node A and retried with the same Idempotency-Key on node B files one case."""
    key = f"nodes-{time.time_ns()}"
    body = json.dumps({"scene": scene, "category_id": category, "description": "两个节点的重试测试：楼道灯不亮"})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key}
    first, _, text_a = request(a, "POST", "/mp/v1/cases", headers=headers, body=body)
    again, _, text_b = request(b, "POST", "/mp/v1/cases", headers=headers, body=body)
    id_a = json.loads(text_a).get("id") if first < 300 else None
    id_b = json.loads(text_b).get("id") if again < 300 else None
    checks.add("Idempotency-Key (a report filed on node A, retried with the same key on node B)",
               first == 201 and again == first and id_a is not None and id_a == id_b,
               f"node A → {first} case {id_a}, node B → {again} case {id_b}")


def clear_limits(redis) -> None:
    for key in redis.scan_iter("*gongzhi-limit*"):
        redis.delete(key)


def check_rate_limit(checks: Checks, both: int, scene: str, redis) -> int:
    """The scan's limit, 120 a minute per client, counted in Redis: 125 scans through nginx from one
    client spread over both nodes (4 workers); a per-process count would let them all through."""
    clear_limits(redis)
    seen = Counter()
    for _ in range(125):
        s, h, _ = request(both, "GET", f"/mp/v1/scan/{scene}")
        seen[(node_of(h), s)] += 1
    ok200 = sum(n for (_, s), n in seen.items() if s == 200)
    limited = sum(n for (_, s), n in seen.items() if s == 429)
    nodes = {n for n, _ in seen}
    checks.add("rate limit counted across both nodes (scan: 120/minute per client, 125 sent)",
               ok200 == 120 and limited == 5 and len(nodes) == 2,
               f"{ok200} × 200, {limited} × 429; per node and status {dict(seen)}")
    clear_limits(redis)
    return ok200


def check_wechat_token(checks: Checks, both: int, fake: FakeWeChat, tokens: list[str]) -> None:
    before = len(fake.state.token_requests)
    seen = Counter()
    for i, token in enumerate(tokens):
        code = fake.issue_phone_code(f"1390000{i:04d}")
        s, h, _ = request(both, "POST", "/mp/v1/auth/phone", body=json.dumps({"code": code}),
                          headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        seen[(node_of(h), s)] += 1
    fetched = len(fake.state.token_requests) - before
    ok = fetched == 1 and fake.state.plain_token_requests == 0 and len(seen) == 2 and \
        all(s == 200 for (_, s) in seen)
    checks.add(f"WeChat access token fetched once for both nodes ({len(tokens)} phone bindings through nginx, "
               "each needing the token)", ok,
               f"stable_token requests {fetched}, plain token requests {fake.state.plain_token_requests}; per node "
               f"and status {dict(seen)}")


def scan_total(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT COALESCE(sum(scan_count), 0) FROM codes").fetchone()[0]


def flush_tallies(app) -> int:
    from app.codes import counter
    from app.extensions import db

    with app.app_context():
        moved = counter.flush()
        db.session.commit()
    return moved


# -- the run -----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scans", type=int, default=400, help="scans spread over both nodes for the tally check")
    parser.add_argument("--port", type=int, default=8200, help="node A; node B +1, nginx (both) +2, nginx (A) +3")
    parser.add_argument("--write", action="store_true", help="put the section in bench/RESULTS.md")
    parser.add_argument("--reuse", action="store_true", help="keep the database loaded by the last run")
    parser.add_argument("--node-cpus", type=float, default=0.0,
                        help="cap each node at this many cores (a cgroup cpu quota per node), e.g. 0.5: two "
                             "small machines on one; 0 (default): no cap")
    args = parser.parse_args()
    command = ".venv/bin/python bench/nodes.py " + " ".join(sys.argv[1:])  # from the repository root
    a, b, both, one = args.port, args.port + 1, args.port + 2, args.port + 3
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-nodes-"))
    (workdir / "logs").mkdir()
    procs = Procs(workdir / "logs")
    wrk = ensure_wrk()
    r: dict = {"command": command.strip(), "cases": args.cases, "duration": args.duration,
               "connections": args.connections}

    url = f"postgresql://postgres@{HOST}:5432/{DB_NAME}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")} | {
        "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "GONGZHI_ENV": "production", "SECRET_KEY": SECRET,
        "DATA_KEY": DATA_KEY, "RATELIMIT_ENABLED": "false", "PYTHONPATH": str(ROOT),
        "INSTANCE_DIR": str(workdir / "instance"), "MEDIA_DIR": str(workdir / "media"),
        "PUBLIC_BASE_URL": f"http://{HOST}:{both}", "TRUSTED_PROXIES": HOST,
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "GONGZHI_ENV", "SECRET_KEY", "DATA_KEY",
                                          "RATELIMIT_ENABLED", "INSTANCE_DIR", "MEDIA_DIR")})
    for k in [k for k in os.environ if k.startswith("WECHAT_")]:
        del os.environ[k]
    sizes = dataset.Sizes.quick(args.cases)
    if not args.reuse:
        create_database(DB_NAME)
        r["schema"] = migrate(url, env)
        log(f"schema: {r['schema']}")

    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.accounts.models import User
    from app.cases.models import Category
    from app.extensions import db

    app = create_app()
    loader = dataset.Loader(url, db.metadata, sizes)
    t = time.monotonic()
    if args.reuse:
        import psycopg

        loader.world = dataset.World()
        with psycopg.connect(url) as conn:
            loader.world.scenes = [s for (s,) in conn.execute("SELECT scene FROM codes ORDER BY id LIMIT 2000")]
    else:
        loader.load_base()
        loader.load_cases(args.cases, args.cases)
        dataset.fix_sequences(url, db.metadata.tables)
        dataset.vacuum_analyze(url)
    world = loader.world
    r["load_s"] = time.monotonic() - t
    log(f"data ready in {r['load_s']:.1f} s")

    with app.app_context():
        street = db.session.scalar(select(User).where(User.username == "street1"))
        street.password_hash = generate_password_hash(STAFF_PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
        db.session.commit()
        street_id = street.id
        residents = list(db.session.scalars(select(User.id).where(User.username.is_(None))
                                            .order_by(User.id).limit(8)))
        category = db.session.scalar(select(Category.id).order_by(Category.id))
    tokens = issue_tokens(app, [street_id, *residents])
    scenes_file = workdir / "scenes.txt"
    scenes_file.write_text("\n".join(world.scenes) + "\n")

    import redis as redis_lib

    redis = redis_lib.Redis.from_url(REDIS_URL)
    redis.flushdb()
    nodes = Nodes(procs, env, [a, b], workdir, args.node_cpus)
    r["node_cpus"] = args.node_cpus
    fake = FakeWeChat().start()
    try:
        nginx = Nginx(procs, workdir / "nginx", {"a": a, "b": b, "both": both, "one": one})
        # -- 1. throughput ------------------------------------------------------------------------
        nodes.start("plain", {})
        wait_http(both, "/healthz")
        runs = {"scan": ("scan.lua", [str(scenes_file)]),
                "list": ("get.lua", ["/mp/v1/cases", tokens[street_id]])}
        r["throughput"] = {}
        for what, (script, script_args) in runs.items():
            for label, port in (("A direct", a), ("A via nginx", one), ("A+B via nginx", both)):
                res = measure(wrk, nodes, nginx, port, script, script_args, args.duration, args.connections)
                r["throughput"][f"{what}|{label}"] = res
                per_node = ", ".join(f"{'AB'[i]} {n['requests']} req {n['cpu_ms']} ms CPU/req"
                                     for i, n in enumerate(res["nodes"].values()))
                log(f"{what} {label}: {res['rps']:.0f} req/s, p95 {res['p95_ms']:.1f} ms, errors {res['errors']}; "
                    f"{per_node}")
        nodes.stop()

        # -- 2. nothing depends on the node --------------------------------------------------------
        log("flushing the scan tallies of the throughput runs, then the checks")
        flush_tallies(app)
        base = scan_total(url)
        nodes.start("checks", {"RATELIMIT_ENABLED": "true", "WECHAT_APPID": APPID, "WECHAT_SECRET": WECHAT_SECRET,
                               "WECHAT_API_BASE_URL": fake.base_url})
        wait_http(both, "/healthz")
        checks = Checks()
        check_console_session(checks, a, b, both, "street1")
        check_api_token(checks, a, b, both, "street1")
        scanned = check_rate_limit(checks, both, world.scenes[0], redis)
        check_wechat_token(checks, both, fake, [tokens[u] for u in residents])
        check_idempotency(checks, a, b, tokens[residents[0]], world.scenes[1], category)
        seen = Counter()
        for i in range(args.scans):
            headers = {"X-Forwarded-For": f"203.0.113.{i % 250}"}  # not believed: nginx sets its own
            if i % 100 == 99:
                clear_limits(redis)  # the tally check is not about the limit: keep under 120 a minute
            s, h, _ = request(both, "GET", f"/mp/v1/scan/{world.scenes[(i * 7) % len(world.scenes)]}",
                              headers=headers)
            seen[(node_of(h), s)] += 1
        scanned += sum(n for (_, s), n in seen.items() if s == 200)
        nodes.stop()  # each worker pushes its tally to Redis as it exits
        moved = flush_tallies(app)
        after = scan_total(url)
        checks.add(f"scan tallies add up ({args.scans} more scans through nginx, then the nodes stopped and the "
                   "tallies flushed)", after - base == scanned and len({n for n, _ in seen}) == 2,
                   f"scans answered 200: {scanned} (the rate-limit check's included); codes.scan_count grew by "
                   f"{after - base}; flushed from Redis {moved}; per node and status {dict(seen)}")
        r["checks"] = checks.rows
    finally:
        procs.stop()
        fake.stop()
    r["wall_s"] = time.monotonic() - started
    r["finished"] = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    r["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    (workdir / "results.json").write_text(json.dumps(r, indent=1, default=str))
    section = render(r, a, b)
    print(section)
    if args.write:
        write(BENCH / "RESULTS.md", section)
        log("bench/RESULTS.md: section written")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(ok for _, ok, _ in r["checks"]) else 1


def render(r: dict, a: int, b: int) -> str:
    lines = [START, "## Two app nodes behind nginx", "",
             f"Written by `bench/nodes.py` on {r['finished']} (whole run {r['wall_s'] / 60:.1f} min; load average "
             f"after it {r['load']}), from the repository root:", "", "```", r["command"], "```", "",
             f"Two gunicorn nodes of the app (A on :{a}, B on :{b}; 2 sync workers each; GONGZHI_ENV=production) "
             f"share one PostgreSQL database (`{DB_NAME}`, {r['cases']:,} cases from bench/dataset.py) and one "
             "Redis db; Debian's nginx runs as a child process with its own configuration on loopback, "
             "round-robin over both. wrk: 2 threads, "
             f"{r['connections']} connections, {r['duration']} s per run after a 2 s warm-up; rate limits off for "
             "this part. The machine has 2 cores, shared by wrk, nginx, PostgreSQL, Redis and both nodes"
             + (f"; each node (master and workers) is capped at {r['node_cpus']:g} core by a cgroup CPU quota of its "
                "own, as if it were a small machine of its own, so that what a second node brings is its own "
                "capacity." if r.get("node_cpus") else "."), "",
             "| endpoint | where | req/s | p95 ms | errors | node A: requests, CPU ms/req | "
             "node B: requests, CPU ms/req |", "|---|---|---:|---:|---:|---|---|"]
    for key, res in r["throughput"].items():
        what, label = key.split("|")
        name = {"scan": "scan `GET /mp/v1/scan/{scene}`", "list": "street admin's case list `GET /mp/v1/cases`"}[what]
        cells = []
        for n in res["nodes"].values():
            cells.append(f"{n['requests']:,}, {n['cpu_ms']:.2f}" if n["requests"] else "–")
        lines.append(f"| {name} | {label} | {res['rps']:.0f} | {res['p95_ms']:.1f} | {res['errors']} | "
                     f"{cells[0]} | {cells[1]} |")
    lines += ["", "*CPU ms/req* is the user + system CPU time of that node's two workers during the run divided by "
              "the requests it served (counted from nginx's log of upstream addresses).", "",
              "### Nothing depends on the node", "",
              "The nodes restarted with rate limits on (flask-limiter, Redis storage), `TRUSTED_PROXIES=127.0.0.1` "
              "and WeChat pointed at tests/fake_wechat.py's server on loopback. Requests through nginx land "
              "round-robin; the node of each is nginx's `X-Node` header.", ""]
    lines += [f"- **{'PASS' if ok else 'FAIL'}** {name}: {figures}" for name, ok, figures in r["checks"]]
    lines += ["", "<!-- reading -->", "<!-- /reading -->", END]
    return "\n".join(lines)


def write(path: Path, section: str) -> None:
    old = path.read_text() if path.exists() else ""
    if START in old and END in old:
        head, rest = old.split(START, 1)
        prior = rest.split(END, 1)[0]
        tail = rest.split(END, 1)[1]
        reading = re.search(r"<!-- reading -->.*?<!-- /reading -->", prior, re.S)
        if reading:  # the hand-written reading of the figures is kept from one run to the next
            section = re.sub(r"<!-- reading -->.*?<!-- /reading -->", lambda _: reading.group(0), section, flags=re.S)
        path.write_text(head + section + tail)
    else:
        path.write_text(old.rstrip() + "\n\n" + section + "\n")


if __name__ == "__main__":
    sys.exit(main())
