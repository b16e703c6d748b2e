"""The Celery app, as Celery's Django guide builds it: settings from `CELERY_*`, tasks from apps.

Web processes only publish; `celery -A config worker` (the Procfile's `worker`) runs tasks.
Job state lives in Lectern's tables, so there is no result backend.
"""

import os
import time
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lectern")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def broker_folders_ensure() -> None:
    """Make the filesystem broker's folders (kombu does not); Redis needs nothing."""
    from django.conf import settings

    if not settings.BROKER_IS_FILESYSTEM:
        return
    for key in ("data_folder_in", "control_folder", "processed_folder"):
        Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key])).mkdir(parents=True, exist_ok=True)


def broker_processed_prune(*, older_than_seconds: float = 86400) -> int:
    """Delete the filesystem broker's taken messages older than a day; return how many.

    kombu keeps each taken message in `processed/` (`store_processed`): renaming there is what
    makes taking a message atomic between processes, so workers prune it when they start.
    """
    from django.conf import settings

    if not settings.BROKER_IS_FILESYSTEM:
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["processed_folder"])).glob(
        "*.msg"
    ):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another worker pruned it first
            continue
    return removed


@app.on_after_configure.connect
def _on_configure(sender: Celery, **kwargs: Any) -> None:
    broker_folders_ensure()


@worker_init.connect
def _on_worker_init(**kwargs: Any) -> None:
    _refuse_unsafe_production()
    broker_folders_ensure()
    broker_processed_prune()
    _relay_events_without_redis()


def _relay_events_without_redis() -> None:
    """On the in-memory channel layer a worker's events would reach no socket: store them for
    the web process to send (realtime/relay.py)."""
    from realtime.relay import relay_enable

    relay_enable()


def _refuse_unsafe_production() -> None:
    """The web process's start-up checks (`config.startup`), before the worker takes a task.

    Celery logs and swallows an `Exception` raised by a signal handler, so the refusal leaves
    as SystemExit: the worker stops with status 1 and the same sentence as the web process.
    """
    from django.core.exceptions import ImproperlyConfigured

    from config.startup import refuse_unsafe_production

    try:
        refuse_unsafe_production()
    except ImproperlyConfigured as refused:
        raise SystemExit(str(refused)) from None
