"""gunicorn settings for production: `gunicorn -c python:app.gunicorn_conf wsgi:app`.

Every setting can still be given on the command line or in GUNICORN_CMD_ARGS.
"""
import os

from gunicorn.http import wsgi as _gunicorn_wsgi

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# nginx in front is the only peer whose X-Forwarded-* headers gunicorn itself may read; the app
# decides whom to believe for the client address through TRUSTED_PROXIES (app/edge.py).
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1")
# The default "Server: gunicorn" names the software to every client (and to scanners looking for
# versions to attack): answer without a Server header. gunicorn has no setting for it.
_default_headers = _gunicorn_wsgi.Response.default_headers


def _headers_without_server(self):
    return [line for line in _default_headers(self) if not line.startswith("Server:")]


_gunicorn_wsgi.Response.default_headers = _headers_without_server
