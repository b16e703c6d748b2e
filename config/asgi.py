"""ASGI entry point: HTTP through Django, WebSockets through Channels.

With DEBUG off, the process refuses to start when a system check fails (an unsafe production
setting): daphne and uvicorn do not run Django's checks themselves.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from sockets.origin import OriginValidator  # noqa: E402
from sockets.session import SessionUserMiddleware  # noqa: E402


def refuse_unsafe_production() -> None:
    """Raise when DEBUG is off and a system check reports an error."""
    if settings.DEBUG:
        return
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        raise ImproperlyConfigured(
            "Refusing to start: " + "; ".join(f"{e.id}: {e.msg}" for e in errors)
        )


refuse_unsafe_production()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(SessionUserMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
