"""WebSocket routes: one per kind with a path (`ai_chat.kinds`), and the events endpoint."""

from django.urls import path
from django.utils.module_loading import import_string

from ai_chat.kinds import KINDS, socket_kind_names
from realtime.consumers import EventsConsumer


def kind_routes() -> list:
    """Each kind's endpoint, served by the consumer class the kind names, given the kind."""
    return [
        path(KINDS[name].path.lstrip("/"), import_string(KINDS[name].consumer).as_asgi(kind=name))
        for name in socket_kind_names()
    ]


websocket_urlpatterns = [
    *kind_routes(),
    path("ws/events/", EventsConsumer.as_asgi()),
]
