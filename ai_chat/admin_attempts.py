"""Admin for the provider attempts: inline on each message, and a register of its own."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ai_chat.models import AIProviderAttempt

ATTEMPT_FIELDS = (
    "position",
    "provider",
    "model",
    "outcome",
    "error_code",
    "first_chunk_ms",
    "total_ms",
    "started_at",
    "error",
)


class AIProviderAttemptInline(admin.TabularInline):
    """Which providers a message asked, in order, and how each one did."""

    model = AIProviderAttempt
    fields = ATTEMPT_FIELDS
    readonly_fields = ATTEMPT_FIELDS
    extra = 0
    can_delete = False
    verbose_name_plural = "provider attempts"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AIProviderAttempt)
class AIProviderAttemptAdmin(admin.ModelAdmin):
    list_display = (
        "provider",
        "model",
        "outcome",
        "error_code",
        "first_chunk_ms",
        "total_ms",
        "started_at",
        "message",
    )
    list_filter = ("provider", "outcome", "error_code", "started_at")
    list_select_related = ("message",)
    readonly_fields = ("message", *ATTEMPT_FIELDS)
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
