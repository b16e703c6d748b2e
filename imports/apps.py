from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """A course built from a repository's documentation: the four-stage import (docs/imports.md)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "imports"

    def ready(self) -> None:
        """Register the import's kinds, declare the `import` event, sweep stages whose worker
        died with the job sweep, and ground lessons in their documents (prompt material,
        sources once generated)."""
        from imports import kinds
        from imports.events import import_events_declare
        from imports.services.grounding import (
            lesson_documents_material,
            lesson_grounding_recorded,
        )
        from imports.services.sweep import imports_sweep
        from jobs.worker import sweep_register
        from lessons.materials import lesson_material_register
        from lessons.signals import lesson_content_applied
        from ops import metrics

        metrics.labels_declare(kinds=kinds.NAMES)
        import_events_declare()
        sweep_register(imports_sweep)
        lesson_material_register(lesson_documents_material)
        lesson_content_applied.connect(
            lesson_grounding_recorded, dispatch_uid="imports.lesson_grounding_recorded"
        )
