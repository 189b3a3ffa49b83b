"""The rq worker class: `rq worker -w tasks.worker.AppWorker notify default`.

Plain `rq worker notify default` works too (each job creates the app it runs in, in a forked
work horse), but AppWorker is what production runs:

- It builds the app once, in the parent, so a forked horse starts ready.
- Notification jobs (the `notify` queue: the coalesced outbox pump, up to 10 batches of 200
  a run, and the batches retried by id) run in the worker process itself, like rq's SimpleWorker:
  they mostly wait on WeChat, and a fork per job, with new database and Redis connections in
  every horse, cost more CPU than the job (see bench/RESULTS.md). The job timeout still holds
  (rq's SIGALRM death penalty), and a worker killed mid-batch loses nothing: rows are marked
  `sending` before the WeChat call and the outbox sweep settles them (tests/tasks/test_notify.py).
- Every other job (exports, reports, sweeps) runs in a forked horse as usual.
- It always runs rq's scheduler, which rq's `Retry` with intervals needs to put retried jobs
  back on their queue.
"""
from __future__ import annotations

from rq.worker import SimpleWorker, Worker, WorkerStatus

import tasks


class AppWorker(Worker):
    def execute_job(self, job, queue):
        if queue.name != tasks.QUEUE_NOTIFY:
            return super().execute_job(job, queue)
        execution = self.prepare_execution(job)
        with tasks._app().app_context():
            self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        if job.origin == tasks.QUEUE_NOTIFY:  # inline: no monitoring loop renews the heartbeat meanwhile
            return SimpleWorker.get_heartbeat_ttl(self, job, working_time)
        return super().get_heartbeat_ttl(job, working_time)

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
