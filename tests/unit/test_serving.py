"""The production server as shipped: gunicorn with app/gunicorn_conf.py, answering without a Server banner."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.own_app
def test_gunicorn_answers_without_a_server_banner(workdir):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'serving.sqlite3'}", "INSTANCE_DIR": str(workdir),
           "MEDIA_DIR": str(workdir / "media"), "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
           "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-c", "python:app.gunicorn_conf", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                # any answer will do: /mp/v1/openapi.json needs no database
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/mp/v1/openapi.json", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status == 200
        assert response.headers.get("Server") is None
        assert response.headers.get("Cache-Control") == "no-store"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
