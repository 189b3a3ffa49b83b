"""The periodic jobs' clock: `python -m tasks.cron --url "$REDIS_URL"` (run exactly one).

rq's own `rq cron tasks/cron_config.py` exits at its first tick while Redis is unreachable. This
is rq's CronScheduler with the same jobs (tasks.periodic) and a loop that waits for Redis
instead: a tick that cannot enqueue leaves its jobs due, so they are enqueued as soon as Redis
answers again (the outbox sweep first of all), then on their usual schedule.
"""
from __future__ import annotations

import argparse
import logging
import os
import time

from redis import Redis
from redis.exceptions import RedisError
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from tasks.periodic import register_all

# How long the clock waits between attempts while Redis is unreachable.
RETRY_SECONDS = 2.0


# The clock looks at Redis at least this often (rq: every 60 s), so that it notices an outage and
# registers again soon after one.
TICK_SECONDS = 5.0


class SteadyCron(CronScheduler):
    """A CronScheduler that outlives Redis outages."""

    retry_seconds = RETRY_SECONDS

    def calculate_sleep_interval(self) -> float:
        return min(super().calculate_sleep_interval(), TICK_SECONDS)

    def start(self):
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()
        registered = False
        try:
            while True:
                try:
                    if not registered:
                        self.register_birth()
                        registered = True
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                except RedisError as exc:
                    self.log.warning("CronScheduler %s: Redis unreachable (%s), retrying in %.0f s",
                                     self.name, exc.__class__.__name__, self.retry_seconds)
                    registered = False  # register again once it answers (the registry may be gone)
                    time.sleep(self.retry_seconds)
                    continue
                sleep_time = self.calculate_sleep_interval()
                if sleep_time > 0:
                    time.sleep(sleep_time)
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            try:
                self.register_death()
            except RedisError:
                pass  # its registry entry expires by itself
            self.log.info("CronScheduler %s: shutdown complete", self.name)


def build(url: str) -> SteadyCron:
    connection = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    cron = SteadyCron(connection=connection)
    register_all(cron.register)
    return cron


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tasks.cron", description=__doc__.splitlines()[0])
    parser.add_argument("--url", "-u", default=os.environ.get("RQ_REDIS_URL") or os.environ.get("REDIS_URL"),
                        help="Redis URL (default: $RQ_REDIS_URL, then $REDIS_URL)")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no Redis URL: pass --url or set REDIS_URL")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    build(args.url).start()


if __name__ == "__main__":
    main()
