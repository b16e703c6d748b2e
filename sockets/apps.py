from django.apps import AppConfig


class SocketsConfig(AppConfig):
    name = "sockets"
    verbose_name = "WebSocket layer"

    def ready(self) -> None:
        from sockets import errors  # noqa: F401  (registers the shared error codes)
