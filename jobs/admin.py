"""Admin for generation jobs: who asked, how it went, and where its conversation is."""

from django.contrib import admin

from jobs.models import LessonJob


@admin.register(LessonJob)
class LessonJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "lesson",
        "user",
        "status",
        "attempts",
        "error_code",
        "model",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "error_code", "model", "created_at")
    search_fields = ("lesson__title", "user__username", "user__email", "celery_task_id")
    list_select_related = ("lesson", "user")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in LessonJob._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False
