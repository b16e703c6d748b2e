"""Bounded context end to end: a long tutor conversation sends the model at most
MAX_HISTORY_MESSAGES earlier messages within the kind's token budget; the older ones are
summarised once (through the provider, its tokens counted), stored, and re-used, not re-sent.

The provider is the real google-genai SDK against the fake Gemini server, which records every
request body: what is asserted is what the model was sent.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from ai_chat.models import AIConversation, AIMessage
from ai_chat.services.context import estimate_tokens
from tests.fakes.gemini_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

BUDGET = 3000
EXCHANGES = 120


def _long_conversation(user) -> AIConversation:
    """A tutor conversation of EXCHANGES completed question-and-answer pairs, oldest first."""
    conversation = AIConversation.objects.create(user=user, kind="chat", title="Loops")
    start = timezone.now() - timedelta(days=1)
    rows = []
    for n in range(EXCHANGES):
        for role, text in (("user", f"Question {n}: " + "why " * 30), ("assistant", "ok " * 60)):
            rows.append(
                AIMessage(
                    conversation=conversation,
                    role=role,
                    content=text,
                    created_at=start + timedelta(seconds=len(rows)),
                )
            )
    AIMessage.objects.bulk_create(rows)
    # bulk_create keeps auto_now_add: set the order explicitly.
    for offset, row in enumerate(rows):
        AIMessage.objects.filter(pk=row.pk).update(created_at=start + timedelta(seconds=offset))
    return conversation


def _sent(body) -> tuple[str, list[str]]:
    system = "".join(p["text"] for p in (body.get("systemInstruction") or {}).get("parts", []))
    contents = ["".join(p.get("text", "") for p in c["parts"]) for c in body["contents"]]
    return system, contents


@pytest.fixture
def bounded(settings):
    settings.MAX_HISTORY_MESSAGES = 50
    settings.AI_CONTEXT_TOKEN_BUDGETS = {**settings.AI_CONTEXT_TOKEN_BUDGETS, "chat": BUDGET}


async def test_a_long_conversation_is_summarised_once_and_stays_in_budget(
    connect, user, gemini, bounded
):
    from channels.db import database_sync_to_async

    conversation = await database_sync_to_async(_long_conversation)(user)
    gemini.push(Reply.text("SUMMARY: the learner asked why, many times."))
    gemini.push(Reply.text("Because loops repeat."))
    client = await connect("chat", user)
    frames = await client.generate("And one more?", conversation_id=str(conversation.pk))
    assert frames[-1]["type"] == "complete", frames[-1]

    summarise, answer = gemini.requests
    system, contents = _sent(summarise.body)
    assert system.startswith("You keep the memory of a long conversation")
    assert sum(estimate_tokens(t) for t in [system, *contents]) <= BUDGET
    system, contents = _sent(answer.body)
    assert "SUMMARY: the learner asked why" in system
    assert len(contents) - 1 <= 50 and contents[-1].endswith("And one more?")
    assert contents[0].startswith("Question")  # whole exchanges: a question first
    assert "Question 0:" not in "".join(contents)  # the oldest went into the summary
    assert sum(estimate_tokens(t) for t in [system, *contents]) <= BUDGET

    await conversation.arefresh_from_db()
    assert conversation.summary == "SUMMARY: the learner asked why, many times."
    assert 0 < conversation.summary_turns < EXCHANGES * 2
    message = await AIMessage.objects.aget(pk=frames[-1]["message_id"])
    # Both calls were paid for by this turn: the summary's tokens are not free.
    assert (message.input_tokens, message.output_tokens) == (22, 14)
    assert frames[-1]["usage"] == {"input_tokens": 22, "output_tokens": 14}

    # The next turn re-uses the stored summary: one request, no new summary.
    gemini.push(Reply.text("Yes."))
    frames = await client.generate("Thanks!", conversation_id=str(conversation.pk))
    assert frames[-1]["type"] == "complete"
    assert len(gemini.requests) == 3
    system, contents = _sent(gemini.requests[-1].body)
    assert "SUMMARY: the learner asked why" in system
    assert sum(estimate_tokens(t) for t in [system, *contents]) <= BUDGET
    assert "Because loops repeat." in contents  # the turn just answered is kept


async def test_a_short_conversation_is_sent_whole_without_a_summary(connect, user, gemini):
    client = await connect("chat", user)
    first = await client.generate("What is a loop?")
    cid = first[0]["conversation_id"]
    await client.generate("And a while loop?", conversation_id=cid)
    assert len(gemini.requests) == 2
    system, contents = _sent(gemini.requests[-1].body)
    assert "Summary of the earlier conversation" not in system
    assert contents[0] == "What is a loop?" and contents[-1] == "And a while loop?"
    assert (await AIConversation.objects.aget(pk=cid)).summary == ""


async def test_the_offline_provider_writes_the_summary_itself(connect, user, bounded):
    """Without a model, the offline provider's summary is stored (the questions asked)."""
    from channels.db import database_sync_to_async

    conversation = await database_sync_to_async(_long_conversation)(user)
    client = await connect("chat", user)
    frames = await client.generate("One more?", conversation_id=str(conversation.pk))
    assert frames[-1]["type"] == "complete"
    await conversation.arefresh_from_db()
    assert conversation.summary.startswith("Earlier the user asked: Question")
    assert conversation.summary_turns > 0
