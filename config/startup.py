"""The production start-up checks every Lectern process runs before it serves anything.

daphne, uvicorn and `celery worker` do not run Django's system checks for us (Celery's Django
fixup runs them but only logs what they find), so the web process (`config.asgi`) and the
worker (`config.celery`, at `worker_init`) call `refuse_unsafe_production` themselves: with
DEBUG off, a configuration a system check calls an error stops the process with one sentence.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_unsafe_production() -> None:
    """Raise ImproperlyConfigured when DEBUG is off and a system check reports an error."""
    if settings.DEBUG:
        return
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        raise ImproperlyConfigured(
            "Refusing to start: " + "; ".join(f"{e.id}: {e.msg}" for e in errors)
        )
