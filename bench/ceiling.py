"""The ceiling: the cheapest Flask responses, to measure the app against on the same machine.

`/row/<id>` reads one row by primary key from the bench database (one psycopg connection per
worker process, opened lazily after gunicorn forks); `/hello` is a bare JSON hello-world.
`POST /write` is the write ceiling: it stores the posted JSON body as one row of
`bench_ceiling_writes` (created by bench/run.py) in one committed INSERT, the cheapest durable write.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/gongzhi_bench \
        .venv/bin/gunicorn -w 2 -b 127.0.0.1:8101 bench.ceiling:app
"""
from __future__ import annotations

import os

import psycopg
from flask import Flask, abort, jsonify, request

app = Flask(__name__)
_conn: psycopg.Connection | None = None


def _connection() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)
    return _conn


@app.get("/hello")
def hello():
    return jsonify({"hello": "world"})


@app.get("/row/<int:place_id>")
def row(place_id: int):
    found = _connection().execute("SELECT name FROM places WHERE id = %s", (place_id,)).fetchone()
    if found is None:
        abort(404)
    return jsonify({"id": place_id, "name": found[0]})


@app.post("/write")
def write():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    (row_id,) = _connection().execute("INSERT INTO bench_ceiling_writes (body) VALUES (%s) RETURNING id",
                                      (request.get_data(as_text=True),)).fetchone()
    return jsonify({"id": row_id}), 201
