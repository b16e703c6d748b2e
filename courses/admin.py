"""Admin for courses and their modules, with the course's modules and lessons inline."""

from typing import cast

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from courses.models import Course, Module
from lessons.models import Lesson


class ModuleInline(admin.TabularInline):
    model = Module
    fields = ("position", "title")
    extra = 0
    show_change_link = True


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


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "owner",
        "level",
        "status",
        "category",
        "language",
        "module_count",
        "lesson_count",
        "updated_at",
    )
    list_filter = ("status", "level", "language", "updated_at")
    search_fields = ("title", "description", "category", "owner__email", "owner__username")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "created_at"
    inlines = (ModuleInline, LessonInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                module_count=Count("modules", distinct=True),
                lesson_count=Count("lessons", distinct=True),
            )
        )

    @admin.display(description="modules", ordering="module_count")
    def module_count(self, obj: Course) -> int:
        return obj.module_count  # type: ignore[attr-defined]

    @admin.display(description="lessons", ordering="lesson_count")
    def lesson_count(self, obj: Course) -> int:
        return obj.lesson_count  # type: ignore[attr-defined]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "position", "lesson_count")
    list_filter = ("course__level", "course__status")
    search_fields = ("title", "description", "course__title")
    list_select_related = ("course",)
    autocomplete_fields = ("course",)
    ordering = ("course__title", "position")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Module]:
        return super().get_queryset(request).annotate(lesson_count=Count("lessons"))

    @admin.display(description="lessons", ordering="lesson_count")
    def lesson_count(self, obj: Module) -> int:
        return obj.lesson_count  # type: ignore[attr-defined]
