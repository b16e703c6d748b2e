"""The production start-up checks every Lectern process runs before it serves anything.

daphne, uvicorn and `celery worker` do not run Django's system checks for us (Celery's Django
fixup runs them but only logs what they find), so the web process (`config.asgi`) and the
worker (`config.celery`, at `worker_init`) call `refuse_unsafe_production` themselves: with
DEBUG off, a configuration a system check calls an error stops the process with one sentence.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def _checks_off_the_loop() -> list[checks.CheckMessage]:
    """Django's checks, in a thread when called inside a running event loop (uvicorn's worker
    processes import config.asgi there; some checks query the database, which Django refuses
    on a loop). Nothing is served yet: waiting is fine."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return checks.run_checks()
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(checks.run_checks).result()


def refuse_unsafe_production() -> None:
    """Raise ImproperlyConfigured when DEBUG is off and a system check reports an error."""
    if settings.DEBUG:
        return
    errors = [m for m in _checks_off_the_loop() if m.level >= checks.ERROR]
    if errors:
        raise ImproperlyConfigured(
            "Refusing to start: " + "; ".join(f"{e.id}: {e.msg}" for e in errors)
        )
