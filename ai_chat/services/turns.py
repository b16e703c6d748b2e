"""Prepare one turn of a conversation: everything synchronous before a generation starts."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, transaction

from ai_chat.agent.base import GenerationRequest, Turn
from ai_chat.exceptions import Busy, NothingToRefine
from ai_chat.generation.job import GenerationJob
from ai_chat.generation.recording import DatabaseRecorder
from ai_chat.kinds import get_kind
from ai_chat.kinds.base import Kind, Target
from ai_chat.models import AIConversation, AIMessage
from ai_chat.services import quota
from ai_chat.services.answer_cache import answer_get, slot_for
from ai_chat.services.context import (
    SUMMARY_INSTRUCTIONS,
    SUMMARY_TOKENS,
    ContextPlan,
    context_plan,
    estimate_tokens,
    with_summary,
)
from ai_chat.services.conversations import (
    conversation_create,
    conversation_get_for_user,
    latest_result,
    turn_start,
)
from ai_chat.services.listing import conversation_check_writable

# What a turn is expected to produce, reserved against the daily budget until real usage is known.
OUTPUT_TOKEN_ESTIMATE = 4000


@dataclass(frozen=True)
class PreparedTurn:
    conversation: AIConversation
    created: bool
    job: GenerationJob


def turn_prepare(
    *,
    user: User,
    kind_name: str,
    content: str,
    context: dict[str, Any] | None,
    conversation_id: uuid.UUID | str | None,
    refinement: bool,
    model: str,
    worker: str,
    target: Target | None = None,
    kind: Kind | None = None,
) -> PreparedTurn:
    """Check, store and plan a turn: conversation, user message, empty assistant message.

    Raises the protocol's errors: `not_found`, `invalid_message`, `busy`, `quota_exceeded`,
    `nothing_to_refine`. `target`: rows the caller has already authorised (a background job
    checked who may generate when it was asked for); without it the kind resolves and checks them.
    `kind`: a variant of the conversation's kind for this turn (a lesson's research turn).
    """
    kind = kind or get_kind(kind_name)
    conversation: AIConversation | None = None
    if conversation_id is not None:
        conversation = conversation_get_for_user(
            user=user, conversation_id=conversation_id, kind=kind_name
        )
        conversation_check_writable(conversation)
    parsed_context = kind.parse_context(
        context if context or conversation is None else conversation.context
    )
    if target is None:
        target = kind.resolve_target(user=user, context=parsed_context)
    if refinement:
        assert conversation is not None
        if latest_result(conversation=conversation) is None:
            raise NothingToRefine(conversation_id=str(conversation.pk))
        prompt = kind.build_refinement(content=content, context=parsed_context)
    else:
        prompt = kind.build_prompt(content=content, context=parsed_context, target=target)
    context_data = parsed_context.model_dump(mode="json")
    # The tutor's answer cache: only the first question of a conversation (see answer_cache).
    cached, slot = None, None
    cache_row = kind.answer_cache_row(target=target) if conversation is None else None
    if cache_row is not None and not refinement:
        slot = slot_for(cache_row, question=content, prompt_version=kind.prompt_version)
        cached = answer_get(slot) if slot is not None else None
    # The summary so far (no turn of this conversation writes it meanwhile: one runs at once).
    summary, covered = (
        (conversation.summary, conversation.summary_turns) if conversation else ("", 0)
    )

    def plan_for(history: tuple[Turn, ...]) -> ContextPlan:
        return context_plan(
            kind=kind_name,
            turns=history,
            summary=summary,
            summary_turns=covered,
            instructions=kind.instructions,
            prompt=prompt,
        )

    with transaction.atomic():
        _check_concurrency(user=user, conversation=conversation)
        created = conversation is None
        if conversation is None:
            conversation = conversation_create(
                user=user,
                kind=kind_name,
                title=kind.title_for(content=content, target=target),
                context=context_data,
                target=target,
            )
        elif context and conversation.context != context_data:
            conversation.context = context_data
            conversation.save(update_fields=["context", "updated_at"])
        started = turn_start(
            conversation=conversation,
            content=content,
            prompt=prompt,
            model=model,
            prompt_version=kind.prompt_version,
            worker=worker,
            new=created,
            # A cached answer costs no tokens: nothing of today's budget is held for it.
            reserve=None
            if cached is not None
            else lambda history: _reserve(
                user=user, tokens=_input_estimate(plan_for(history), kind.instructions, prompt)
            ),
            history_from_prompt=kind.history_from_prompt,
        )
        plan = plan_for(started.history)  # pure: the plan the reservation was made for
    request = GenerationRequest(
        kind=kind_name,
        instructions=with_summary(kind.instructions, plan.summary),
        prompt=prompt,
        history=plan.history,
        result_schema=kind.result_schema(),
        context=context_data,
        max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS,
        user_text=content,
        refinement=refinement,
    )
    message_id = str(started.assistant_message.pk)
    job = GenerationJob(
        user_id=user.pk,
        conversation_id=str(conversation.pk),
        message_id=message_id,
        kind=kind,
        context=parsed_context,
        request=request,
        recorder=DatabaseRecorder(message_id, started.reservation),
        summary=plan.work,
        cached_answer=cached,
        cache_slot=slot if cached is None else None,
        fallback_answer=None if refinement else kind.fallback_answer(target=target),
    )
    return PreparedTurn(conversation=conversation, created=created, job=job)


def _check_concurrency(*, user: User, conversation: AIConversation | None) -> None:
    """`busy` when the user already has MAX_CONCURRENT_GENERATIONS running (in a transaction:
    the user's row is the lock that makes count-then-insert safe across processes)."""
    running = _running_locked(user.pk)
    if running >= settings.MAX_CONCURRENT_GENERATIONS:
        raise Busy(
            f"You already have {running} generations running; wait for one to finish.",
            conversation_id=str(conversation.pk) if conversation else None,
        )


def _running_locked(user_id: int) -> int:
    """The user's row locked (PostgreSQL: FOR UPDATE; SQLite locks the whole database as the
    transaction writes) with the count of its streaming messages, in one query.

    Written as SQL, built once per database vendor: it runs before every generation, and
    Django building the same annotated subquery each time cost more CPU than the query (a
    third of the start's ORM work in the issue 12 profile)."""
    vendor = connection.vendor
    sql = _RUNNING_SQL.get(vendor)
    if sql is None:
        quote = connection.ops.quote_name

        def column(meta: Any, name: str | None = None) -> str:
            field = meta.pk if name is None else meta.get_field(name)
            assert isinstance(field.column, str), field
            return str(quote(field.column))

        user_meta, message, conv = get_user_model()._meta, AIMessage._meta, AIConversation._meta
        user_table = quote(user_meta.db_table)
        sql = _RUNNING_SQL[vendor] = (
            f"SELECT (SELECT COUNT(*) FROM {quote(message.db_table)} m"
            f" INNER JOIN {quote(conv.db_table)} c"
            f" ON m.{column(message, 'conversation')} = c.{column(conv)}"
            f" WHERE c.{column(conv, 'user')} = u.{column(user_meta)}"
            f" AND m.{column(message, 'status')} = %s)"
            f" FROM {user_table} u WHERE u.{column(user_meta)} = %s"
            + (" FOR UPDATE OF u" if connection.features.has_select_for_update_of else "")
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [AIMessage.Status.STREAMING.value, user_id])
        row = cursor.fetchone()
    return int(row[0]) if row is not None else 0


_RUNNING_SQL: dict[str, str] = {}


def _input_estimate(plan: ContextPlan, instructions: str, prompt: str) -> int:
    """The turn's input tokens, estimated: what the answer is sent with, and what summarising
    first sends (and writes) when the turn must."""
    texts = [with_summary(instructions, plan.summary), prompt, *(t.text for t in plan.history)]
    if plan.work is not None:
        texts += [SUMMARY_INSTRUCTIONS, plan.work.previous, *(t.text for t in plan.work.turns)]
    summarising = SUMMARY_TOKENS if plan.work is not None else 0
    return sum(estimate_tokens(text) for text in texts) + summarising


def _reserve(*, user: User, tokens: int) -> quota.Reservation:
    """Hold the turn's estimated tokens of today's budget (`turn_start` notes them on the
    assistant message as it creates it: if this process dies, the sweep gives them back)."""
    return quota.quota_reserve(user_id=user.pk, tokens=tokens + OUTPUT_TOKEN_ESTIMATE)
