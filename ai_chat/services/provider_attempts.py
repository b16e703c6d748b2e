"""Storing the provider attempts of a generation (the register `ai_chat.agent.attempts` fills)."""

import uuid
from collections.abc import Sequence

from django.db import transaction

from ai_chat.agent.attempts import Outcome, ProviderAttempt
from ai_chat.models import AIMessage, AIProviderAttempt


def attempts_record(
    *, message_id: uuid.UUID | str | None, attempts: Sequence[ProviderAttempt]
) -> list[AIProviderAttempt]:
    """Called where a generation's message is stored: one insert for all of its attempts.

    A message deleted meanwhile (retention, or its user) leaves them unlinked: the register of
    what the providers did is kept, nothing of the conversation is.
    """
    if message_id:
        message = AIMessage.objects.filter(pk=message_id)
        if transaction.get_connection().in_atomic_block:  # the recorder's: hold it till commit
            message = message.select_for_update()
        if not message.exists():
            message_id = None
    rows = [
        AIProviderAttempt(
            message_id=message_id,
            position=position,
            provider=attempt.provider[:30],
            model=attempt.model[:100],
            outcome=attempt.outcome.value,
            error_code=attempt.error_code[:50],
            error=attempt.error,
            first_chunk_ms=attempt.first_chunk_ms,
            total_ms=max(0, attempt.total_ms),
            started_at=attempt.started_at,
        )
        for position, attempt in enumerate(attempts)
    ]
    streamed = [attempt for attempt in attempts if attempt.first_chunk_ms is not None]
    if message_id and streamed and streamed[-1].outcome is not Outcome.ANSWERED:
        # Failed mid-stream: the partial text kept on the message is this model's, not the
        # first provider's that the message was created with. (An answer set it already.)
        AIMessage.objects.filter(pk=message_id).update(model=streamed[-1].model[:100])
    return AIProviderAttempt.objects.bulk_create(rows) if rows else []
