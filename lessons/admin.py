"""Admin for lessons: their content and the state of their AI generation, and the lessons
inline on the course page."""

from typing import cast

from django.contrib import admin
from django.forms import ModelChoiceField

from courses.admin import course_inline
from courses.forms import LinesFieldsMixin
from courses.models import Module
from lessons.models import Lesson, LessonRevision


@course_inline
class LessonInline(admin.TabularInline):
    model = Lesson
    fields = ("position", "module", "title", "estimated_minutes", "generation_status")
    readonly_fields = ("generation_status",)
    extra = 0
    show_change_link = True

    def get_formset(self, request, obj=None, **kwargs):
        """Offer only this course's modules, evaluated once for every row's select."""
        formset = super().get_formset(request, obj, **kwargs)
        field = cast(ModelChoiceField, formset.form.base_fields["module"])
        field.queryset = Module.objects.filter(course=obj) if obj else Module.objects.none()
        field.choices = list(field.iterator(field))
        return formset


@admin.register(Lesson)
class LessonAdmin(LinesFieldsMixin, admin.ModelAdmin):
    lines_fields = {"objectives": "One learning objective per line."}
    list_display = (
        "title",
        "course",
        "module",
        "position",
        "generation_status",
        "estimated_minutes",
        "updated_at",
    )
    list_filter = ("generation_status", "course__level", "updated_at")
    search_fields = ("title", "description", "course__title", "module__title")
    list_select_related = ("course", "module")
    autocomplete_fields = ("course", "module")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("course", "module", "position", "title", "description")}),
        (
            "Content",
            {"fields": ("objectives", "outline", "content", "key_terms", "estimated_minutes")},
        ),
        (
            "Generation",
            {"fields": ("generation_status", "generation_error", "created_at", "updated_at")},
        ),
    )


@admin.register(LessonRevision)
class LessonRevisionAdmin(admin.ModelAdmin):
    list_display = ("title", "lesson", "reason", "edited", "created_at")
    list_filter = ("reason", "edited", "created_at")
    search_fields = ("title", "lesson__title")
    list_select_related = ("lesson",)
    readonly_fields = (
        "lesson",
        "reason",
        "edited",
        "title",
        "description",
        "objectives",
        "outline",
        "content",
        "key_terms",
        "estimated_minutes",
        "created_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False
