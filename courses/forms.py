"""List fields edited in the admin as one item per line, not as raw JSON."""

import json
from typing import Any

from django import forms
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst


class LinesField(forms.CharField):
    """A JSON list of strings, edited as one item per line (blank lines are dropped)."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(v if isinstance(v, str) else json.dumps(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class LinesFieldsMixin:
    """A ModelAdmin mixin: the JSON list fields named in `lines_fields` (name -> help text)
    are edited one item per line."""

    lines_fields: dict[str, str] = {}

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name in self.lines_fields:
            return LinesField(
                required=False,
                label=capfirst(db_field.verbose_name),
                help_text=self.lines_fields[db_field.name],
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
