"""`save`: turn an accepted result into domain rows, once, with provenance."""

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from ai_chat.exceptions import NothingToSave
from ai_chat.kinds import get_kind
from ai_chat.models import AIConversation, AIGeneratedObject, AIMessage, AIResultSave
from sockets.errors import NotFound


@dataclass(frozen=True)
class SaveOutcome:
    message_id: uuid.UUID
    objects: list[dict[str, object]]
    created: bool


def result_save(
    *, user: User, conversation: AIConversation, message_id: uuid.UUID | str | None
) -> SaveOutcome:
    """Write the rows of a completed result; saving it again writes nothing and says so.

    Two saves at once write one set of rows: the message row is locked for the transaction,
    and the one-save-per-message constraint settles a race on databases without row locks.
    """
    kind = get_kind(conversation.kind)
    if not kind.saveable:
        raise NothingToSave(
            f"{conversation.kind} answers are not saved.", conversation_id=str(conversation.pk)
        )
    try:
        return _save_once(user=user, conversation=conversation, message_id=message_id)
    except IntegrityError:
        # Lost a race with an identical save that committed first: answer with its rows.
        message = AIMessage.objects.get(pk=message_id) if message_id else None
        record = AIResultSave.objects.filter(
            message=message or _result_message(conversation, None)
        ).first()
        if record is None:
            raise
        return _outcome(record, created=False)


@transaction.atomic
def _save_once(
    *, user: User, conversation: AIConversation, message_id: uuid.UUID | str | None
) -> SaveOutcome:
    message = _result_message(conversation, message_id, lock=True)
    existing = AIResultSave.objects.filter(message=message).first()
    if existing is not None:
        return _outcome(existing, created=False)
    kind = get_kind(conversation.kind)
    context = kind.parse_context(conversation.context)
    target = kind.resolve_target(user=user, context=context)  # ownership checked again, now
    saved = kind.save(user=user, data=message.data or {}, context=context, target=target)
    undeclared = {item.object_type for item in saved} - set(kind.object_types)
    if undeclared:
        # A kind's save mapping is its `object_types`: the wire contract lists only those.
        raise TypeError(f"kind {kind.name!r} saved undeclared object types {sorted(undeclared)}")
    record = AIResultSave.objects.create(message=message, user=user)
    AIGeneratedObject.objects.bulk_create(
        AIGeneratedObject(
            save_record=record,
            message=message,
            position=position,
            object_type=item.object_type,
            content_type=ContentType.objects.get_for_model(item.instance),
            object_id=item.instance.pk,
            created=item.created,
        )
        for position, item in enumerate(saved)
    )
    return SaveOutcome(
        message_id=message.pk,
        objects=[{"type": item.object_type, "id": item.instance.pk} for item in saved],
        created=True,
    )


def _result_message(
    conversation: AIConversation, message_id: uuid.UUID | str | None, *, lock: bool = False
) -> AIMessage:
    messages = conversation.messages.filter(role=AIMessage.Role.ASSISTANT)
    if lock:
        messages = messages.select_for_update()
    if message_id is not None:
        message = messages.filter(pk=message_id).first()
        if message is None:
            raise NotFound("Message not found.", conversation_id=str(conversation.pk))
        if message.status != AIMessage.Status.COMPLETED or message.data is None:
            raise NothingToSave(
                "That message has no completed result.", conversation_id=str(conversation.pk)
            )
        return message
    message = (
        messages.filter(status=AIMessage.Status.COMPLETED, data__isnull=False)
        .order_by("-created_at")
        .first()
    )
    if message is None:
        raise NothingToSave(conversation_id=str(conversation.pk))
    return message


def _outcome(record: AIResultSave, *, created: bool) -> SaveOutcome:
    objects = [
        {"type": obj.object_type, "id": obj.object_id}
        for obj in record.written.order_by("position")
    ]
    return SaveOutcome(message_id=record.message_id, objects=objects, created=created)
