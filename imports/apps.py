from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """A course built from a repository's documentation: the four-stage import (docs/imports.md)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "imports"

    def ready(self) -> None:
        """Declare the `import` event, and sweep stages whose worker died with the job sweep."""
        from imports.events import import_events_declare
        from imports.services.sweep import imports_sweep
        from jobs.worker import sweep_register

        import_events_declare()
        sweep_register(imports_sweep)
