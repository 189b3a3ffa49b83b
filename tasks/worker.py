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
  back on their queue. rq's scheduler process exits when Redis goes away and rq only starts
  it again at its 10-minute maintenance; AppWorker starts it again as soon as Redis answers
  (its idle loop retries Redis every few seconds at most), so scheduled retries resume at once.
- When it starts, it settles what a killed worker left (`tasks.notify.recover_at_start`): rows
  taken but not started go back to pending and out, rows caught mid-call become `unknown`.

- An idle worker outlives a Redis outage, including one that starts during its start-up, its
  periodic registry clean-up or the write of its "idle" state before a dequeue (rq quits there;
  AppWorker puts these off until Redis answers).

A worker busy with a job when Redis goes away may still exit (rq cannot finish the job's
bookkeeping); the shipped process configuration (deploy/) restarts it within seconds.
"""
from __future__ import annotations

from redis.exceptions import RedisError
from rq.worker import SimpleWorker, Worker, WorkerStatus

import tasks
from app.extensions import db
from app.jobs import QUEUE_NOTIFY
from tasks.notify import recover_at_start


class AppWorker(Worker):
    max_connection_wait_time = 5.0  # rq's idle loop retries Redis at most this far apart (rq: 60 s)

    def execute_job(self, job, queue):
        if queue.name != QUEUE_NOTIFY:
            return super().execute_job(job, queue)
        execution = self.prepare_execution(job)
        with tasks.worker_app().app_context():
            self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        if job.origin == QUEUE_NOTIFY:  # inline: no monitoring loop renews the heartbeat meanwhile
            return SimpleWorker.get_heartbeat_ttl(self, job, working_time)
        return super().get_heartbeat_ttl(job, working_time)

    def work(self, *args, **kwargs):
        kwargs["with_scheduler"] = True
        return super().work(*args, **kwargs)

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        app = tasks.worker_app()
        with app.app_context():
            result = recover_at_start()
        if result["released"] or result["unknown"]:
            self.log.warning("Worker %s: a dead worker's deliveries: %d back to pending, %d unknown",
                             self.name, result["released"], result["unknown"])

    # rq's loop waits out an unreachable Redis only while it dequeues; a Redis error in the two steps
    # before (the suspension check, the registry clean-up run at start and every 10 minutes) makes
    # rq quit. Both may wait: the dequeue that follows waits for Redis, and they run again after it.
    def check_for_suspension(self, *args, **kwargs):
        try:
            return super().check_for_suspension(*args, **kwargs)
        except RedisError as exc:
            self.log.warning("Worker %s: Redis unreachable (%s); suspension not checked", self.name,
                             exc.__class__.__name__)

    def set_state(self, state, pipeline=None):
        # Before each dequeue rq writes "idle" to Redis outside its retry loop; an outage starting just then
        # made the worker quit. The state is only a label for monitoring: keep it, and let the dequeue wait.
        if pipeline is not None:
            return super().set_state(state, pipeline)
        try:
            return super().set_state(state)
        except RedisError as exc:
            self._state = state
            self.log.warning("Worker %s: Redis unreachable (%s); state %r not recorded", self.name,
                             exc.__class__.__name__, state)

    def run_maintenance_tasks(self):
        try:
            super().run_maintenance_tasks()
        except RedisError as exc:
            self.log.warning("Worker %s: Redis unreachable (%s); maintenance put off", self.name,
                             exc.__class__.__name__)

    def heartbeat(self, *args, **kwargs):
        super().heartbeat(*args, **kwargs)
        self._revive_scheduler()

    def _revive_scheduler(self) -> None:
        """Start rq's scheduler again if its process died (it does when Redis goes away)."""
        scheduler = self.scheduler
        process = getattr(scheduler, "_process", None) if scheduler is not None else None
        if process is None or process.is_alive() or self._stop_requested or self._shutdown_requested_date:
            return  # none to revive, or it was stopped on purpose: the worker is shutting down
        try:
            scheduler.acquire_locks(auto_start=True)
        except Exception:  # noqa: BLE001 - Redis still away: the next heartbeat tries again
            self.log.debug("Worker %s: scheduler not restarted yet", self.name, exc_info=True)

    def main_work_horse(self, job, queue):
        # Nothing the parent opened may be shared across the fork: drop pooled connections and clients.
        app = tasks.worker_app()
        with app.app_context():
            db.engine.dispose(close=False)
        for key in ("gongzhi.redis", "gongzhi.wechat"):
            app.extensions.pop(key, None)
        return super().main_work_horse(job, queue)
