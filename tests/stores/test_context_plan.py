"""`context_plan`: over a conversation of any length, what is sent stays within the message
limit and the token budget, and a summary is written every so many turns, not on each."""

import pytest

from ai_chat.agent.base import Turn
from ai_chat.services.context import context_plan, estimate_tokens, with_summary

INSTRUCTIONS = "You are a patient tutor."


@pytest.fixture
def limits(settings):
    settings.MAX_HISTORY_MESSAGES = 50
    settings.AI_CONTEXT_TOKEN_BUDGETS = {"chat": 4000}


def _sent(plan, prompt: str, summary: str) -> int:
    instructions = with_summary(INSTRUCTIONS, plan.summary or summary)
    texts = [instructions, prompt, *(t.text for t in plan.history)]
    return sum(estimate_tokens(t) for t in texts)


# Answers of 5, 100 and 750 tokens (the last: four exchanges fill the budget).
@pytest.mark.parametrize(("answer_length", "most_summaries"), [(20, 34), (400, 80), (3000, 200)])
def test_every_turn_of_a_long_conversation_stays_bounded(limits, answer_length, most_summaries):
    turns: tuple[Turn, ...] = ()
    summary, covered, summaries = "", 0, 0
    for n in range(400):
        prompt = f"Question {n}?"
        plan = context_plan(
            kind="chat",
            turns=turns,
            summary=summary,
            summary_turns=covered,
            instructions=INSTRUCTIONS,
            prompt=prompt,
        )
        assert len(plan.history) <= 50
        assert not plan.history or plan.history[0].role == "user"
        if plan.work is not None:
            summaries += 1
            assert plan.work.through >= covered and plan.work.previous == summary
            folded = sum(estimate_tokens(t.text) for t in plan.work.turns)
            assert folded <= 4000
            summary, covered = "S" * 2400, plan.work.through  # a summary of the largest size
        assert _sent(plan, prompt, summary) <= 4000
        turns += (Turn("user", prompt), Turn("model", "a" * answer_length))
    # Written once per batch of turns, not on every turn.
    assert 0 < summaries <= most_summaries


def test_unknown_kind_uses_the_default_budget(settings):
    settings.AI_CONTEXT_TOKENS = 1000
    settings.AI_CONTEXT_TOKEN_BUDGETS = {}
    turns = tuple(Turn("user" if n % 2 == 0 else "model", "w" * 400) for n in range(40))
    plan = context_plan(
        kind="course", turns=turns, summary="", summary_turns=0, instructions="", prompt="p"
    )
    assert plan.work is not None
    assert sum(estimate_tokens(t.text) for t in plan.history) <= 1000
