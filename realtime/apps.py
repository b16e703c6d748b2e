from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime events and notifications"

    def ready(self) -> None:
        """Declare realtime's own rooms, actions and events (apps after it add theirs)."""
        from realtime.declarations import realtime_declare

        realtime_declare()
