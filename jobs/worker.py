"""The job sweep's home: a thread in every Celery worker, started when the worker is ready.

Why the worker and not the web process or beat: a worker is what every deployment that runs jobs
has (beat is one more process to run, and django-celery-beat does not support Django 6.1), a
worker that comes back after a crash sweeps at once, and the sweep's conditional updates make
several workers sweeping together harmless. `manage.py jobs_sweep` runs it by hand or from cron.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

from celery.signals import worker_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

_stop = threading.Event()
# What the thread runs each round besides the job sweep: other apps' sweeps of rows that a dead
# worker left running (the import stages), registered in their AppConfig.ready.
_sweeps: list[Callable[[], Any]] = []


def sweep_register(sweep: Callable[[], Any]) -> None:
    """Run `sweep()` in every round of the workers' sweep thread (once, however often asked)."""
    if sweep not in _sweeps:
        _sweeps.append(sweep)


def sweep_forever(stop: threading.Event) -> None:
    from jobs.services.sweep import jobs_sweep

    while not stop.is_set():
        for sweep in (jobs_sweep, *_sweeps):
            try:
                sweep()
            except Exception:  # a database blip must not end the sweeping
                logger.warning("sweep %s failed", sweep.__name__, exc_info=True)
            finally:
                close_old_connections()
        stop.wait(settings.JOB_SWEEP_SECONDS)


@worker_init.connect
def _sqlite_transactions_immediate(**_kwargs: object) -> None:
    """On SQLite, a worker's transactions take the write lock when they begin.

    A worker's threads read, then write, in one transaction (a turn: the busy check, then the
    conversation); SQLite cannot upgrade a read lock while another connection writes and fails at
    once with "database is locked". Begun IMMEDIATE, a transaction waits its turn instead (the
    `timeout`). Only in workers: the web process keeps SQLite's default.
    """
    from django.db import connections

    for alias in connections:
        options = connections.settings[alias].setdefault("OPTIONS", {})
        if connections.settings[alias]["ENGINE"] == "django.db.backends.sqlite3":
            options.setdefault("transaction_mode", "IMMEDIATE")


@worker_ready.connect
def _start_sweeper(**_kwargs: object) -> None:
    _stop.clear()
    threading.Thread(
        target=sweep_forever, args=(_stop,), name="lectern-job-sweep", daemon=True
    ).start()


@worker_shutdown.connect
def _stop_sweeper(**_kwargs: object) -> None:
    _stop.set()
