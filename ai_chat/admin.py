"""Admin for reviewing AI conversations: their messages, results, feedback and usage.

A review tool, not an editor: the store is written by the services. Staff change only a
conversation's status and review flag. Deletion stays allowed everywhere, because deleting a
user or a conversation in the admin needs delete permission on every row it cascades to.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import ngettext

from ai_chat.admin_attempts import AIProviderAttemptInline
from ai_chat.admin_display import (
    INLINE_MESSAGE_FIELDS,
    INLINE_MESSAGE_READONLY_FIELDS,
    MESSAGE_FIELDS,
    MESSAGE_READONLY_FIELDS,
    MessageDetailsMixin,
    conversation_target_link,
    generated_object_link,
    messages_with_details,
    pretty_json,
)
from ai_chat.admin_export import conversations_export_response
from ai_chat.models import (
    AIConversation,
    AIDailyUsage,
    AIFeedback,
    AIGeneratedObject,
    AIMessage,
    AIResultSave,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the services write: staff look, never add or edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AIMessageInline(MessageDetailsMixin, admin.StackedInline):
    model = AIMessage
    fields = INLINE_MESSAGE_FIELDS
    readonly_fields = INLINE_MESSAGE_READONLY_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[AIMessage]:
        return messages_with_details(super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ModelUsedFilter(admin.SimpleListFilter):
    """Conversations with at least one message from the chosen model."""

    title = "model"
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = (
            AIMessage.objects.exclude(model="")
            .order_by("model")
            .values_list("model", flat=True)
            .distinct()
        )
        return [(name, name) for name in names]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        used = AIMessage.objects.filter(conversation=OuterRef("pk"), model=self.value())
        return queryset.filter(Exists(used))


@admin.register(AIConversation)
class AIConversationAdmin(admin.ModelAdmin):
    list_display = (
        "display_title",
        "user_email",
        "kind",
        "message_count",
        "total_tokens",
        "latest_model",
        "review",
        "updated",
    )
    list_filter = (
        "kind",
        "status",
        "flagged_for_review",
        ModelUsedFilter,
        ("updated_at", admin.DateFieldListFilter),
    )
    # `messages__content` spans a reverse FK: the changelist adds DISTINCT for it.
    search_fields = ("user__email", "title", "messages__content")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    actions = ("export_as_json", "flag_for_review", "clear_review_flag")
    inlines = (AIMessageInline,)

    fieldsets = (
        (None, {"fields": ("id", "user", "kind", "title", "status", "flagged_for_review")}),
        ("Context", {"fields": ("pretty_context", "target_link", "summary", "summary_turns")}),
        ("Usage", {"fields": ("input_tokens", "output_tokens", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "id",
        "user",
        "kind",
        "title",
        "pretty_context",
        "target_link",
        "summary",
        "summary_turns",
        "input_tokens",
        "output_tokens",
        "created_at",
        "updated_at",
    )

    class Media:
        css = {"all": ("ai_chat/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[AIConversation]:
        latest_model = (
            AIMessage.objects.filter(conversation=OuterRef("pk"), role=AIMessage.Role.ASSISTANT)
            .exclude(model="")
            .order_by("-created_at")
            .values("model")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                # distinct: a search on message text joins the messages a second time.
                message_count=Count("messages", distinct=True),
                total_tokens=F("input_tokens") + F("output_tokens"),
                latest_model=Subquery(latest_model),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="title", ordering="title")
    def display_title(self, obj: AIConversation) -> str:
        return obj.title or f"({obj.kind}, untitled)"

    @admin.display(description="user", ordering="user__email")
    def user_email(self, obj: AIConversation) -> str:
        # A line may break before the "@" of a long address, and only there.
        local, at, domain = (obj.user.email or obj.user.get_username()).partition("@")
        return format_html("{}<wbr>{}{}", local, at, domain) if at else local

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, obj: AIConversation) -> int:
        return obj.message_count  # type: ignore[attr-defined]

    @admin.display(description="tokens", ordering="total_tokens")
    def total_tokens(self, obj: AIConversation) -> int:
        return obj.total_tokens  # type: ignore[attr-defined]

    @admin.display(description="model", ordering="latest_model", empty_value="-")
    def latest_model(self, obj: AIConversation) -> str | None:
        return obj.latest_model  # type: ignore[attr-defined]

    @admin.display(description="flag", boolean=True, ordering="flagged_for_review")
    def review(self, obj: AIConversation) -> bool:
        return obj.flagged_for_review

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj: AIConversation) -> str:
        when = localtime(obj.updated_at)
        return format_html("{}<br>{}", date_format(when, "M j"), date_format(when, "H:i"))

    @admin.display(description="context")
    def pretty_context(self, obj: AIConversation) -> str:
        return pretty_json(obj.context)

    @admin.display(description="about")
    def target_link(self, obj: AIConversation) -> str:
        return conversation_target_link(obj)

    @admin.action(description="Export selected as JSON", permissions=["view"])
    def export_as_json(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return conversations_export_response(conversations=queryset)

    @admin.action(description="Flag for review", permissions=["change"])
    def flag_for_review(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_flag(request, queryset, flagged=True)

    @admin.action(description="Clear review flag", permissions=["change"])
    def clear_review_flag(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_flag(request, queryset, flagged=False)

    def _set_flag(self, request: HttpRequest, queryset: QuerySet, *, flagged: bool) -> None:
        # `update` leaves `updated_at` alone: a review flag is not activity in the conversation.
        count = AIConversation.objects.filter(pk__in=queryset.values("pk")).update(
            flagged_for_review=flagged
        )
        done = "flagged for review" if flagged else "cleared of the review flag"
        text = ngettext("%d conversation %s.", "%d conversations %s.", count) % (count, done)
        self.message_user(request, text, messages.SUCCESS)


@admin.register(AIMessage)
class AIMessageAdmin(MessageDetailsMixin, ReadOnlyAdmin):
    list_display = (
        "__str__",
        "conversation",
        "role",
        "status",
        "model",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "created_at",
    )
    list_filter = ("status", "role", "model", "created_at")
    search_fields = ("content",)
    list_select_related = ("conversation",)
    fields = ("conversation", *MESSAGE_FIELDS)
    readonly_fields = ("conversation", *MESSAGE_READONLY_FIELDS)
    inlines = (AIProviderAttemptInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AIMessage]:
        return messages_with_details(super().get_queryset(request))


@admin.register(AIFeedback)
class AIFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("message", "user", "rating", "comment", "created_at")
    list_filter = ("rating", "created_at")
    search_fields = ("comment", "user__email")
    list_select_related = ("message", "user")


class AIGeneratedObjectInline(admin.TabularInline):
    model = AIGeneratedObject
    fk_name = "save_record"
    fields = ("position", "object_type", "target_link", "created")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AIGeneratedObject]:
        return (
            super().get_queryset(request).select_related("content_type").prefetch_related("target")
        )

    @admin.display(description="row")
    def target_link(self, obj: AIGeneratedObject) -> str:
        return generated_object_link(obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AIResultSave)
class AIResultSaveAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "conversation", "user", "created_at")
    list_filter = ("created_at",)
    search_fields = ("user__email", "message__conversation__title")
    list_select_related = ("message__conversation", "user")
    inlines = (AIGeneratedObjectInline,)

    @admin.display(description="conversation", ordering="message__conversation__title")
    def conversation(self, obj: AIResultSave) -> AIConversation:
        return obj.message.conversation


@admin.register(AIGeneratedObject)
class AIGeneratedObjectAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "target_link", "message", "created")
    list_filter = ("object_type", "created")
    search_fields = ("message__content", "message__conversation__title")
    list_select_related = ("content_type", "message")
    readonly_fields = ("target_link",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AIGeneratedObject]:
        return super().get_queryset(request).prefetch_related("target")

    @admin.display(description="row")
    def target_link(self, obj: AIGeneratedObject) -> str:
        return generated_object_link(obj)


@admin.register(AIDailyUsage)
class AIDailyUsageAdmin(ReadOnlyAdmin):
    list_display = ("user", "day", "used_tokens", "reserved_tokens", "generations")
    list_filter = ("day",)
    search_fields = ("user__email", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "day"
    ordering = ("-day", "user")
