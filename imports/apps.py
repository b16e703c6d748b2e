from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """A course built from a repository's documentation: the four-stage import (docs/imports.md)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "imports"
