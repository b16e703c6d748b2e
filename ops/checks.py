"""System checks of the operations settings."""

import importlib
import importlib.util
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.checks import Error, register

from ops.access import DEFAULT_ALLOWED, parse_networks


@register()
def metrics_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Every METRICS_ALLOWED_IPS entry must be an address or a network."""
    try:
        parse_networks(getattr(settings, "METRICS_ALLOWED_IPS", DEFAULT_ALLOWED))
    except ValueError as exc:
        return [
            Error(
                f"METRICS_ALLOWED_IPS holds an entry that is not an address or network ({exc}).",
                hint="Comma-separated addresses or CIDR networks, e.g. 127.0.0.1,10.0.0.0/8.",
                id="ops.E001",
            )
        ]
    return []


@register()
def celery_time_limits_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """On Redis, every task's hard time limit must be below the broker's visibility timeout.

    A message still unacknowledged when the timeout ends is delivered again, to another worker,
    while the first still runs it (docs/deployment.md).
    """
    from config.celery import app

    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if not timeout:  # the filesystem broker never redelivers on a timer
        return []
    for config in django_apps.get_app_configs():  # the apps' tasks modules, as autodiscovery
        if importlib.util.find_spec(f"{config.name}.tasks") is not None:
            importlib.import_module(f"{config.name}.tasks")
    errors = []
    for name, task in sorted(app.tasks.items()):
        limit = task.time_limit or app.conf.task_time_limit
        if name.startswith("celery.") or not limit or limit < timeout:
            continue
        errors.append(
            Error(
                f"Task {name} may run {limit:g} s, not less than the broker's visibility "
                f"timeout ({timeout} s): Redis would deliver it again while it runs.",
                hint="Raise CELERY_BROKER_VISIBILITY_TIMEOUT or lower the task's time limit.",
                id="ops.E002",
            )
        )
    return errors
