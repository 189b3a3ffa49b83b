"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi ...` for the CLI."""
import gc

from app import create_app
from tasks.periodic import register_cli

app = create_app()
register_cli(app)  # the composition root: app/ knows the jobs only by name
# Everything built so far (the app, its routes, schemas and imported modules) lives as long as the
# process: keep it out of the garbage collector's full passes, which otherwise walk it all and
# show up as latency spikes under load (bench/RESULTS.md).
gc.freeze()
