import atexit
import os

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations: health, metrics, logs"

    def ready(self) -> None:
        from ops import checks  # noqa: F401  (registers the system checks)
        from ops.metrics import mark_process_dead, multiprocess_mode

        if multiprocess_mode():  # this process's live gauges leave the merge when it exits
            atexit.register(mark_process_dead, os.getpid())
