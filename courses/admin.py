"""Admin for courses and their modules, with the course's modules inline.

Apps that build on courses add their own inlines to the course page with `course_inline`
(lessons adds its lessons), so this module imports none of them.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from courses.forms import LinesFieldsMixin
from courses.models import Course, Module
from courses.services import course_publish
from courses.signals import course_changed_on_commit

COURSE_INLINES: list[type[InlineModelAdmin]] = []


def course_inline[T: type[InlineModelAdmin]](inline: T) -> T:
    """Show an inline on the course page, after the course's modules (a class decorator)."""
    COURSE_INLINES.append(inline)
    return inline


class ModuleInline(admin.TabularInline):
    model = Module
    fields = ("position", "title")
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(LinesFieldsMixin, admin.ModelAdmin):
    lines_fields = {
        "objectives": "One learning objective per line.",
        "prerequisites": "One prerequisite per line.",
    }
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
    inlines = (ModuleInline,)
    actions = ("publish",)

    @admin.action(description="Publish the selected courses (their learners are told)")
    def publish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        count = sum(course_publish(course=course) for course in queryset)
        self.message_user(request, f"Published {count} course(s).", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Course, form: Any, change: bool) -> None:
        """Save; a course that existed tells its learners it changed (or was published)."""
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            published = "status" in form.changed_data and obj.status == Course.Status.PUBLISHED
            course_changed_on_commit(course_id=obj.pk, published=published)

    def get_inlines(self, request: HttpRequest, obj: Course | None) -> list[type[InlineModelAdmin]]:
        """The course's modules, then what other apps added with `course_inline`."""
        return [*self.inlines, *COURSE_INLINES]

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
