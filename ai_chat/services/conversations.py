"""Conversations and their messages: synchronous, transactional, always scoped to the user."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ai_chat.agent.base import Turn, Usage
from ai_chat.exceptions import Busy
from ai_chat.kinds.base import Target
from ai_chat.models import AIConversation, AIFeedback, AIMessage, kind_registered
from ai_chat.services import quota
from sockets.errors import NotFound


def conversation_get_for_user(
    *, user: User, conversation_id: uuid.UUID | str, kind: str | None = None
) -> AIConversation:
    """The user's conversation, optionally of one kind; `NotFound` for anyone else's."""
    filters = Q(pk=conversation_id, user=user)
    if kind is not None:
        filters &= Q(kind=kind)
    conversation = AIConversation.objects.filter(filters).first()
    if conversation is None:
        raise NotFound("Conversation not found.", conversation_id=str(conversation_id))
    return conversation


def conversation_create(
    *, user: User, kind: str, title: str, context: dict[str, Any], target: Target
) -> AIConversation:
    kind_registered(kind)  # the database holds no list of kinds: the registry is checked here
    conversation = AIConversation(user=user, kind=kind, title=title[:200], context=context)
    if target.row is not None:
        # The content type cache answers without a query after the first of each model.
        conversation.target_type = ContentType.objects.get_for_model(target.row)
        conversation.target_id = target.row.pk
    conversation.save()
    return conversation


@dataclass(frozen=True)
class StartedTurn:
    user_message: AIMessage
    assistant_message: AIMessage
    history: tuple[Turn, ...]
    reservation: quota.Reservation | None = None


@transaction.atomic(savepoint=False)  # no savepoint inside a caller's transaction: two queries
def turn_start(
    *,
    conversation: AIConversation,
    content: str,
    prompt: str,
    model: str,
    prompt_version: str,
    worker: str,
    new: bool = False,
    reserve: Callable[[tuple[Turn, ...]], quota.Reservation] | None = None,
    history_from_prompt: bool = True,
) -> StartedTurn:
    """Store the user's message and an empty `streaming` assistant message to generate into.

    Refuses with `Busy` while the conversation already has a generation running. The history
    returned is what the model sees before this turn. `new`: the conversation was created in
    this transaction, so it has no messages to lock against, check or replay (three queries).
    `reserve`: holds the turn's budget given its history; the assistant message is created
    holding it (`reserved_tokens`), so that a sweep after a crash gives it back.
    """
    history: tuple[Turn, ...] = ()
    if new:
        locked = conversation
    else:
        locked = AIConversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.messages.filter(status=AIMessage.Status.STREAMING).exists():
            raise Busy(
                "A generation is already running for this conversation.",
                conversation_id=str(conversation.pk),
            )
        history = conversation_turns(conversation=locked, from_prompt=history_from_prompt)
    reservation = reserve(history) if reserve is not None else None
    user_message = AIMessage.objects.create(
        conversation=locked, role=AIMessage.Role.USER, content=content, prompt=prompt
    )
    assistant_message = AIMessage.objects.create(
        conversation=locked,
        role=AIMessage.Role.ASSISTANT,
        status=AIMessage.Status.STREAMING,
        model=model,
        prompt_version=prompt_version,
        worker=worker,
        reserved_tokens=reservation.tokens if reservation is not None else 0,
    )
    if not new:
        AIConversation.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
    return StartedTurn(user_message, assistant_message, history, reservation)


def conversation_turns(
    *, conversation: AIConversation, from_prompt: bool = True
) -> tuple[Turn, ...]:
    """Earlier exchanges whose answer completed, as model turns, oldest first; a question as
    the whole prompt it was sent as (`from_prompt`), else as the user typed it."""
    turns: list[Turn] = []
    pending_user: AIMessage | None = None
    for message in conversation.messages.order_by("created_at").only(
        "role", "status", "content", "prompt"
    ):
        if message.role == AIMessage.Role.USER:
            pending_user = message
        elif pending_user is not None and message.status == AIMessage.Status.COMPLETED:
            asked = pending_user.prompt if from_prompt else ""
            turns.append(Turn("user", asked or pending_user.content))
            turns.append(Turn("model", message.content))
            pending_user = None
    return tuple(turns)


@transaction.atomic(savepoint=False)  # the recorder's transaction, without a savepoint
def message_finish(
    *,
    message_id: uuid.UUID,
    status: str,
    content: str,
    data: dict[str, Any] | None = None,
    usage: Usage | None = None,
    model: str = "",
    latency_ms: int | None = None,
    error_code: str = "",
    error: str = "",
    origin: str = "",
) -> int | None:
    """End a streaming assistant message and add its usage to the conversation's totals.

    Returns the tokens the message still held before it ended (0 once a sweep gave them back),
    or None when the message is gone."""
    usage = usage or Usage()
    fields: dict[str, Any] = {
        "status": status,
        "content": content,
        "data": data,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "latency_ms": latency_ms,
        "error_code": error_code,
        "error": error[:2000],
        "reserved_tokens": 0,
        "origin": origin,
        "finished_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    if model:
        fields["model"] = model
    message = (
        AIMessage.objects.filter(pk=message_id).values("conversation_id", "reserved_tokens").first()
    )
    if message is None:  # deleted meanwhile (retention or the user): nothing to record
        return None
    # `interrupted` too: a sweep that took a slow process for dead must not cost its result.
    AIMessage.objects.filter(
        pk=message_id, status__in=[AIMessage.Status.STREAMING, AIMessage.Status.INTERRUPTED]
    ).update(**fields)
    AIConversation.objects.filter(pk=message["conversation_id"]).update(
        input_tokens=F("input_tokens") + usage.input_tokens,
        output_tokens=F("output_tokens") + usage.output_tokens,
        updated_at=timezone.now(),
    )
    held: int = message["reserved_tokens"]
    return held


def message_get_for_user(
    *, user: User, conversation: AIConversation, message_id: uuid.UUID | str | None
) -> AIMessage:
    """An assistant message of the user's conversation; default the latest one."""
    messages = AIMessage.objects.filter(
        conversation=conversation, conversation__user=user, role=AIMessage.Role.ASSISTANT
    )
    if message_id is not None:
        message = messages.filter(pk=message_id).first()
    else:
        message = messages.order_by("-created_at").first()
    if message is None:
        raise NotFound("Message not found.", conversation_id=str(conversation.pk))
    return message


def latest_result(*, conversation: AIConversation) -> AIMessage | None:
    """The latest completed assistant message with a structured result."""
    return (
        conversation.messages.filter(
            role=AIMessage.Role.ASSISTANT, status=AIMessage.Status.COMPLETED, data__isnull=False
        )
        .order_by("-created_at")
        .first()
    )


def conversation_history(
    *,
    user: User,
    conversation: AIConversation,
    before: uuid.UUID | str | None,
    limit: int,
) -> tuple[list[AIMessage], bool]:
    """A page of messages, newest first, strictly older than `before`; and whether more exist."""
    messages = AIMessage.objects.filter(conversation=conversation, conversation__user=user)
    if before is not None:
        anchor = messages.filter(pk=before).values("created_at").first()
        if anchor is None:
            raise NotFound("Message not found.", conversation_id=str(conversation.pk))
        messages = messages.filter(
            Q(created_at__lt=anchor["created_at"])
            | Q(created_at=anchor["created_at"], pk__lt=before)
        )
    page = list(messages.order_by("-created_at", "-pk")[: limit + 1])
    return page[:limit], len(page) > limit


def messages_mark_interrupted(*, worker_ids: list[str]) -> int:
    """Mark the `streaming` messages of these dead workers `interrupted`, each giving its
    token reservation back (what it streamed, checkpointed, counts as used); return how many."""
    stale = AIMessage.objects.filter(
        status=AIMessage.Status.STREAMING, worker__in=worker_ids
    ).values_list("pk", flat=True)
    error = "The process running this generation stopped."
    return sum(message_interrupt(message_id=pk, error=error) for pk in stale)


def message_interrupt(*, message_id: uuid.UUID | str, error: str) -> bool:
    """Mark one `streaming` message whose process died `interrupted` and give its token
    reservation back (what it streamed, checkpointed, counts as used); False if it had ended.

    One conditional update: two sweeps at once (the dead-process sweep and the job sweep), or a
    late result, never settle a reservation twice.
    """
    row = (
        AIMessage.objects.filter(pk=message_id, status=AIMessage.Status.STREAMING)
        .values_list("reserved_tokens", "content", "created_at", "conversation__user_id")
        .first()
    )
    if row is None:
        return False
    reserved, content, created_at, user_id = row
    with transaction.atomic():
        ended = AIMessage.objects.filter(pk=message_id, status=AIMessage.Status.STREAMING).update(
            status=AIMessage.Status.INTERRUPTED,
            error_code="interrupted",
            error=error,
            reserved_tokens=0,
            output_tokens=len(content) // 4,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if ended and reserved:
            quota.quota_settle(
                reservation=quota.Reservation(user_id, created_at.date(), reserved),
                used_tokens=len(content) // 4,
            )
    return bool(ended)


def conversations_purge(*, older_than_days: int) -> int:
    """Delete conversations not updated for `older_than_days` days; return how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    stale = AIConversation.objects.filter(updated_at__lt=cutoff).exclude(
        messages__status=AIMessage.Status.STREAMING
    )
    count = stale.count()
    stale.delete()
    return count


def feedback_record(
    *, user: User, message_id: uuid.UUID | str, rating: int, comment: str
) -> AIFeedback:
    """Rate one of the user's assistant messages; rating again replaces the earlier rating."""
    message = AIMessage.objects.filter(
        pk=message_id, role=AIMessage.Role.ASSISTANT, conversation__user=user
    ).first()
    if message is None:
        raise NotFound("Message not found.")
    feedback, _ = AIFeedback.objects.update_or_create(
        message=message, user=user, defaults={"rating": rating, "comment": comment}
    )
    return feedback
