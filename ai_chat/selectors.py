"""Reads of conversations and messages, always scoped to who asks."""

from typing import Any

from django.db.models import QuerySet

from ai_chat.models import AIMessage


def messages_running_for_user(*, user: Any) -> QuerySet[AIMessage]:
    """The user's assistant messages still streaming (their running generations), oldest first."""
    return (
        AIMessage.objects.filter(
            conversation__user=user,
            role=AIMessage.Role.ASSISTANT,
            status=AIMessage.Status.STREAMING,
        )
        .select_related("conversation")
        .order_by("created_at")
    )
