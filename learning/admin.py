"""Admin for enrollments, lesson progress and confusion."""

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from learning.models import Confusion, Enrollment, LessonProgress
from learning.services import confusion_resolve


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("learner", "course", "role", "created_at")
    list_filter = ("role", "course__status", "created_at")
    search_fields = ("learner__username", "learner__email", "course__title")
    list_select_related = ("learner", "course")
    autocomplete_fields = ("learner", "course")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):
    list_display = ("learner", "lesson", "course", "percent", "completed_at", "updated_at")
    list_filter = (("completed_at", admin.EmptyFieldListFilter), "updated_at")
    search_fields = ("learner__username", "learner__email", "lesson__title", "position")
    list_select_related = ("learner", "lesson__course")
    autocomplete_fields = ("learner", "lesson")
    readonly_fields = ("updated_at",)

    @admin.display(description="course", ordering="lesson__course__title")
    def course(self, obj: LessonProgress) -> str:
        return str(obj.lesson.course)


@admin.register(Confusion)
class ConfusionAdmin(admin.ModelAdmin):
    list_display = ("learner", "lesson", "position", "short_note", "created_at", "resolved_at")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("learner__username", "learner__email", "lesson__title", "note")
    list_select_related = ("learner", "lesson")
    autocomplete_fields = ("learner", "lesson")
    # Resolving goes through the service (the action below), so the learner is told.
    readonly_fields = ("created_at", "resolved_by", "resolved_at")
    date_hierarchy = "created_at"
    actions = ("resolve",)

    @admin.display(description="note")
    def short_note(self, obj: Confusion) -> str:
        return obj.note if len(obj.note) <= 60 else obj.note[:59] + "…"

    @admin.action(description="Resolve the selected confusions (the learners are told)")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Confusion]) -> None:
        done = 0
        for pk in queryset.filter(resolved_at__isnull=True).values_list("pk", flat=True):
            try:
                confusion_resolve(user=request.user, confusion_id=pk)
                done += 1
            except (PermissionDenied, ObjectDoesNotExist):
                continue
        self.message_user(request, f"Resolved {done} confusion(s).", messages.SUCCESS)
