"""Admin for enrollments, lesson progress, confusion, and the moderation of questions and
answers (hide, unhide, delete: the rooms that show them are told)."""

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from learning.models import Answer, Confusion, Enrollment, LessonProgress, Question
from learning.questions import (
    answer_hide,
    answer_removed,
    question_hide,
    question_removed,
    question_show,
)
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


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ("author", "text", "created_at", "hidden_at")
    readonly_fields = ("author", "text", "created_at", "hidden_at")
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("short_text", "learner", "lesson", "created_at", "answered_at", "hidden_at")
    list_filter = (
        ("answered_at", admin.EmptyFieldListFilter),
        ("hidden_at", admin.EmptyFieldListFilter),
        "created_at",
    )
    search_fields = ("text", "learner__username", "learner__email", "lesson__title")
    list_select_related = ("learner", "lesson")
    # Questions are the learners' words: a moderator hides or deletes them, never rewrites.
    readonly_fields = ("learner", "lesson", "text", "created_at", "answered_at", "hidden_at")
    date_hierarchy = "created_at"
    inlines = (AnswerInline,)
    actions = ("hide", "unhide")

    @admin.display(description="question")
    def short_text(self, obj: Question) -> str:
        return _short(obj.text)

    @admin.action(description="Hide the selected questions (they leave every room and list)")
    def hide(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        hidden = queryset.filter(hidden_at__isnull=True).select_related("lesson__course")
        count = 0
        for question in hidden:
            question_hide(question=question)
            count += 1
        self.message_user(request, f"Hid {count} question(s).", messages.SUCCESS)

    @admin.action(description="Show the selected hidden questions again")
    def unhide(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        count = 0
        for question in queryset.filter(hidden_at__isnull=False).select_related("lesson__course"):
            question_show(question=question)
            count += 1
        self.message_user(request, f"Showed {count} question(s) again.", messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Question) -> None:
        question_removed(question=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        for question in queryset.filter(hidden_at__isnull=True).select_related("lesson__course"):
            question_removed(question=question)
        super().delete_queryset(request, queryset)


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("short_text", "author", "question", "created_at", "hidden_at")
    list_filter = (("hidden_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("text", "author__username", "author__email", "question__text")
    list_select_related = ("author", "question")
    readonly_fields = ("question", "author", "text", "created_at", "hidden_at")
    actions = ("hide",)

    @admin.display(description="answer")
    def short_text(self, obj: Answer) -> str:
        return _short(obj.text)

    @admin.action(description="Hide the selected answers")
    def hide(self, request: HttpRequest, queryset: QuerySet[Answer]) -> None:
        count = 0
        for answer in queryset.filter(hidden_at__isnull=True):
            answer_hide(answer=answer)
            count += 1
        self.message_user(request, f"Hid {count} answer(s).", messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Answer) -> None:
        question_id = obj.question_id
        super().delete_model(request, obj)
        answer_removed(question_id=question_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Answer]) -> None:
        question_ids = set(queryset.values_list("question_id", flat=True))
        super().delete_queryset(request, queryset)
        for question_id in question_ids:
            answer_removed(question_id=question_id)
