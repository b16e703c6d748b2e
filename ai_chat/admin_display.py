"""What the AI admin shows of a message: its data, the rows its result wrote, its feedback."""

import json
from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import mark_safe

from ai_chat.models import AIConversation, AIFeedback, AIGeneratedObject, AIMessage


def pretty_json(value: Any) -> str:
    """`value` indented inside <pre>, escaped; "-" when there is none."""
    if value is None:
        return "-"
    text = json.dumps(value, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    return format_html("<pre>{}</pre>", text)


def same_result(content: str, data: Any) -> bool:
    """Whether a reply's text says nothing its validated result does not (shown once then)."""
    if data == {"text": content}:  # the tutor chat's markdown
        return True
    text = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
    try:
        return json.loads(text) == data
    except ValueError:
        return False


def text_block(text: str) -> str:
    """`text` escaped, in paragraphs and line breaks; "-" when empty."""
    return mark_safe(linebreaks(text, autoescape=True)) if text else "-"


def message_body(message: AIMessage) -> str:
    """A message once: its result when it has one, with its text only if that differs."""
    data = message.data
    if data is None or data == {"text": message.content}:
        return text_block(message.content)
    if same_result(message.content, data):
        return pretty_json(data)
    return format_html("{}{}", text_block(message.content), pretty_json(data))


def generated_object_link(generated: AIGeneratedObject) -> str:
    """A link to the admin page of the row `generated` records (its `target` prefetched)."""
    label = f"{generated.object_type.replace('_', ' ').title()} #{generated.object_id}"
    return row_link(generated.content_type, generated.object_id, generated.target, label)


def conversation_target_link(conversation: AIConversation) -> str:
    """A link to the admin page of the row a conversation is about; "-" when about none."""
    if conversation.target_type_id is None or conversation.target_id is None:
        return "-"
    # The content type cache answers without a query.
    content_type = ContentType.objects.get_for_id(conversation.target_type_id)
    label = f"{content_type.name.capitalize()} #{conversation.target_id}"
    return row_link(content_type, conversation.target_id, conversation.target, label)


def row_link(content_type: ContentType, object_id: int, row: Any, label: str) -> str:
    """`label: row` linked to the row's admin page; "(deleted)" when the row is gone."""
    if row is None:
        return format_html("{} (deleted)", label)
    try:
        name = f"admin:{content_type.app_label}_{content_type.model}_change"
        url = reverse(name, args=[object_id])
    except NoReverseMatch:
        return format_html("{}: {}", label, row)
    return format_html('<a href="{}">{}: {}</a>', url, label, row)


def generated_objects_prefetch() -> Prefetch:
    """A message's generated rows with their content types and targets, in a few queries."""
    queryset = AIGeneratedObject.objects.select_related("content_type").prefetch_related("target")
    return Prefetch("generated", queryset)


class MessageDetailsMixin:
    """Read-only fields shared by the message admin and the conversation's message inline."""

    @admin.display(description="data")
    def pretty_data(self, obj: AIMessage) -> str:
        return pretty_json(obj.data)

    @admin.display(description="content")
    def body(self, obj: AIMessage) -> str:
        return message_body(obj)

    @admin.display(description="rows its result wrote")
    def generated_rows(self, obj: AIMessage) -> str:
        links = [generated_object_link(generated) for generated in obj.generated.all()]
        if not links:
            return "-"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((link,) for link in links))
        )

    @admin.display(description="feedback")
    def feedback_given(self, obj: AIMessage) -> str:
        rows = [(f.rating, f.user.email or f.user, f.comment) for f in obj.feedback.all()]
        if not rows:
            return "-"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}/5 from {}: {}</li>", rows))


MESSAGE_FIELDS = (
    ("role", "status", "origin", "model", "prompt_version"),
    "content",
    "prompt",
    "pretty_data",
    ("input_tokens", "output_tokens", "latency_ms", "created_at", "finished_at"),
    ("error_code", "error", "worker"),
    "generated_rows",
    "feedback_given",
)
MESSAGE_READONLY_FIELDS = tuple(
    name for row in MESSAGE_FIELDS for name in (row if isinstance(row, tuple) else (row,))
)
# On the conversation page a reply is shown once: its result, or its text (the message's own
# page keeps both, for a result whose raw text matters).
INLINE_MESSAGE_FIELDS = tuple(
    "body" if row == "content" else row for row in MESSAGE_FIELDS if row != "pretty_data"
)
INLINE_MESSAGE_READONLY_FIELDS = (*MESSAGE_READONLY_FIELDS, "body")


def messages_with_details(queryset: QuerySet[AIMessage]) -> QuerySet[AIMessage]:
    return queryset.prefetch_related(
        Prefetch("feedback", AIFeedback.objects.select_related("user").order_by("created_at")),
        generated_objects_prefetch(),
    )
