"""System checks of the operations settings."""

from typing import Any

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
