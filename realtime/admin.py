"""Admin for stored notifications."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from realtime.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "created_at", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("title", "body", "user__username", "user__email")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"
    actions = ("mark_unread",)

    @admin.action(description="Mark the selected notifications unread")
    def mark_unread(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = queryset.update(read_at=None)
        self.message_user(request, f"Marked {count} notification(s) unread.", messages.SUCCESS)
