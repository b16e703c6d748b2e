"""Admin for quizzes and assignments, with their questions inline."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from assessments.models import Assignment, AssignmentQuestion, Quiz, QuizQuestion


class QuizQuestionInline(admin.TabularInline):
    model = QuizQuestion
    fields = ("position", "type", "prompt", "options", "answer", "explanation", "points")
    extra = 0


class AssignmentQuestionInline(admin.TabularInline):
    model = AssignmentQuestion
    fields = ("position", "type", "prompt", "points", "rubric", "sample_answer")
    extra = 0


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("__str__", "lesson", "course", "question_count", "updated_at")
    search_fields = ("title", "lesson__title", "lesson__course__title")
    list_filter = ("updated_at",)
    list_select_related = ("lesson__course",)
    autocomplete_fields = ("lesson",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (QuizQuestionInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Quiz]:
        # `select_related` also serves the autocomplete, whose labels name the lesson.
        queryset = super().get_queryset(request).select_related("lesson__course")
        return queryset.annotate(question_count=Count("questions"))

    @admin.display(description="course", ordering="lesson__course__title")
    def course(self, obj: Quiz) -> str:
        return str(obj.lesson.course)

    @admin.display(description="questions", ordering="question_count")
    def question_count(self, obj: Quiz) -> int:
        return obj.question_count  # type: ignore[attr-defined]


@admin.register(QuizQuestion)
class QuizQuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quiz", "position", "type", "points")
    list_filter = ("type",)
    search_fields = ("prompt", "answer", "quiz__title", "quiz__lesson__title")
    list_select_related = ("quiz__lesson",)
    autocomplete_fields = ("quiz",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "lesson", "question_count", "updated_at")
    search_fields = ("title", "instructions", "course__title", "lesson__title")
    list_filter = ("updated_at",)
    list_select_related = ("course", "lesson")
    autocomplete_fields = ("course", "lesson")
    readonly_fields = ("created_at", "updated_at")
    inlines = (AssignmentQuestionInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return super().get_queryset(request).annotate(question_count=Count("questions"))

    @admin.display(description="questions", ordering="question_count")
    def question_count(self, obj: Assignment) -> int:
        return obj.question_count  # type: ignore[attr-defined]


@admin.register(AssignmentQuestion)
class AssignmentQuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "assignment", "position", "type", "points")
    list_filter = ("type",)
    search_fields = ("prompt", "sample_answer", "assignment__title")
    list_select_related = ("assignment",)
    autocomplete_fields = ("assignment",)
