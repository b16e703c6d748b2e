"""The admin's JSON export of conversations: messages, feedback and the rows results wrote."""

import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from ai_chat.models import AIConversation, AIFeedback, AIGeneratedObject, AIMessage


def conversations_export(*, conversations: QuerySet[AIConversation]) -> dict[str, Any]:
    """Everything a reviewer needs about `conversations`, in a constant number of queries."""
    messages = AIMessage.objects.order_by("created_at").prefetch_related(
        Prefetch("feedback", AIFeedback.objects.select_related("user").order_by("created_at")),
        Prefetch("generated", AIGeneratedObject.objects.select_related("content_type")),
    )
    rows = (
        conversations.select_related("user")
        .prefetch_related(Prefetch("messages", messages))
        .order_by("-updated_at")
    )
    return {
        "exported_at": timezone.now(),
        "conversations": [_conversation(conversation) for conversation in rows],
    }


def conversations_export_response(*, conversations: QuerySet[AIConversation]) -> HttpResponse:
    """The export as a downloadable `application/json` attachment."""
    body = json.dumps(
        conversations_export(conversations=conversations),
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        indent=2,
    )
    filename = f"ai-conversations-{timezone.now():%Y%m%d-%H%M%S}.json"
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _conversation(conversation: AIConversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "user": {"id": conversation.user_id, "email": conversation.user.email},
        "kind": conversation.kind,
        "title": conversation.title,
        "status": conversation.status,
        "flagged_for_review": conversation.flagged_for_review,
        "context": conversation.context,
        "target": _target(conversation),
        "input_tokens": conversation.input_tokens,
        "output_tokens": conversation.output_tokens,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "messages": [_message(message) for message in conversation.messages.all()],
    }


def _target(conversation: AIConversation) -> dict[str, Any] | None:
    """What the conversation is about, as `{"type": "lessons.lesson", "id": 3}`, or None."""
    if conversation.target_type_id is None or conversation.target_id is None:
        return None
    # The content type cache answers without a query.
    content_type = ContentType.objects.get_for_id(conversation.target_type_id)
    return {"type": f"{content_type.app_label}.{content_type.model}", "id": conversation.target_id}


def _message(message: AIMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "role": message.role,
        "status": message.status,
        "content": message.content,
        "prompt": message.prompt,
        "data": message.data,
        "model": message.model,
        "prompt_version": message.prompt_version,
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "latency_ms": message.latency_ms,
        "error_code": message.error_code,
        "error": message.error,
        "created_at": message.created_at,
        "finished_at": message.finished_at,
        "feedback": [
            {
                "user_id": feedback.user_id,
                "user_email": feedback.user.email,
                "rating": feedback.rating,
                "comment": feedback.comment,
                "created_at": feedback.created_at,
            }
            for feedback in message.feedback.all()
        ],
        "generated_objects": [
            {
                "position": generated.position,
                "object_type": generated.object_type,
                "app_label": generated.content_type.app_label,
                "model": generated.content_type.model,
                "object_id": generated.object_id,
                "created": generated.created,
            }
            for generated in message.generated.all()
        ],
    }
