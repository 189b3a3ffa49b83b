"""The rq worker class: `rq worker -w tasks.worker.AppWorker notify default`.

Plain `rq worker notify default` works too (each job creates the app it runs in), but it
builds the app again in every forked work horse. AppWorker builds it once in the parent,
so a horse starts ready, and it always runs rq's scheduler, which rq's `Retry` with
intervals needs to put retried jobs back on their queue.
"""
from __future__ import annotations

from rq.worker import Worker

import tasks


class AppWorker(Worker):
    def work(self, *args, **kwargs):
        kwargs["with_scheduler"] = True
        return super().work(*args, **kwargs)

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        tasks._app()

    def main_work_horse(self, job, queue):
        # Nothing the parent opened may be shared across the fork: drop pooled connections and clients.
        app = tasks._app()
        from app.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)
        for key in ("gongzhi.redis", "gongzhi.wechat"):
            app.extensions.pop(key, None)
        return super().main_work_horse(job, queue)
