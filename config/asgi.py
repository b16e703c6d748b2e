"""ASGI entry point: HTTP through Django, WebSockets through Channels.

With DEBUG off, the process refuses to start when a system check fails (an unsafe production
setting): daphne and uvicorn do not run Django's checks themselves (`config.startup`).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from config.startup import refuse_unsafe_production  # noqa: E402
from sockets.origin import OriginValidator  # noqa: E402
from sockets.session import SessionUserMiddleware  # noqa: E402

refuse_unsafe_production()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(SessionUserMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
