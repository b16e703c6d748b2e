"""Bounded context: which earlier turns go to the model with a new one, and what is summarised.

Only the last `MAX_HISTORY_MESSAGES` turns are sent, and the whole prompt (instructions, the
summary, those turns, the new prompt) stays within the kind's token budget
(`AI_CONTEXT_TOKEN_BUDGETS`). The turns left out are folded once into a summary stored on the
conversation and sent in the instructions instead. When the summary must grow, the kept turns
are cut to half the limits, so that a summary is written every so many turns, not on each.
Pure functions: the stores load the turns, the generation writes the summary.
"""

from dataclasses import dataclass

from django.conf import settings

from ai_chat.agent.base import Turn

# A sensible estimate without a tokenizer: about four characters per token in English prose and
# code (the provider's count, known after the answer, is what the budget is charged).
CHARS_PER_TOKEN = 4
# The most a summary is allowed to be, in tokens (what its budget share assumes).
SUMMARY_TOKENS = 600
# A turn handed to the summariser is clipped to this many characters, fewer when many turns
# must share the budget (never under SUMMARY_TURN_MIN_CHARS: then the oldest are left out).
SUMMARY_TURN_CHARS = 2000
SUMMARY_TURN_MIN_CHARS = 200
SUMMARY_INSTRUCTIONS = (
    "You keep the memory of a long conversation. Write a short summary (at most 200 words) of "
    "the earlier summary, if any, and of the conversation turns given: what the user asked, "
    "what was answered or decided, and anything they said about themselves. Plain prose, no "
    "headings, no greeting."
)


def estimate_tokens(text: str) -> int:
    """Tokens `text` costs, estimated from its length (rounded up)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def token_budget(kind: str) -> int:
    """The whole prompt's budget for `kind`: its own setting, else the default."""
    budgets: dict[str, int] = settings.AI_CONTEXT_TOKEN_BUDGETS
    return budgets.get(kind, settings.AI_CONTEXT_TOKENS)


@dataclass(frozen=True)
class SummaryWork:
    """Turns to fold into the conversation's summary before the answer is asked for."""

    previous: str  # the summary so far ("" for none)
    turns: tuple[Turn, ...]
    through: int  # the summary will cover the first `through` turns of the conversation


@dataclass(frozen=True)
class ContextPlan:
    history: tuple[Turn, ...]  # the turns sent, oldest first
    summary: str  # the stored summary sent with them ("" for none, or while `work` rewrites it)
    work: SummaryWork | None


def with_summary(instructions: str, summary: str) -> str:
    """The kind's instructions with the summary of the earlier conversation, if any."""
    if not summary:
        return instructions
    return f"{instructions}\n\nSummary of the earlier conversation (not repeated below):\n{summary}"


def context_plan(
    *,
    kind: str,
    turns: tuple[Turn, ...],
    summary: str,
    summary_turns: int,
    instructions: str,
    prompt: str,
) -> ContextPlan:
    """What to send of `turns` (every completed turn, oldest first) with `prompt`, given the
    summary stored so far, which covers the first `summary_turns` of them."""
    limit = max(int(settings.MAX_HISTORY_MESSAGES), 0)
    budget = token_budget(kind) - estimate_tokens(instructions) - estimate_tokens(prompt)
    covered = min(summary_turns, len(turns)) if summary else 0
    start = _tail_start(turns, covered, limit, budget - (SUMMARY_TOKENS if covered else 0))
    if start == covered:  # what the summary does not cover fits: nothing to write
        return ContextPlan(turns[start:], summary if covered else "", None)
    # Fold more into the summary, keeping half the limits' worth of the latest turns.
    start = max(start, _tail_start(turns, covered, limit // 2, (budget - SUMMARY_TOKENS) // 2))
    previous = summary if covered else ""
    asked = [SUMMARY_INSTRUCTIONS, summary_prompt(previous)]
    room = token_budget(kind) - sum(estimate_tokens(text) for text in asked)
    folded = _folded(turns[covered:start], room)
    return ContextPlan(turns[start:], "", SummaryWork(previous, folded, start))


def _tail_start(turns: tuple[Turn, ...], floor: int, limit: int, budget: int) -> int:
    """The first turn of the longest tail after `floor` within `limit` turns and `budget`
    tokens, starting on a user turn so that a question is never sent without its answer."""
    start, used = len(turns), 0
    while start > floor and len(turns) - start < limit:
        cost = estimate_tokens(turns[start - 1].text)
        if used + cost > budget:
            break
        used += cost
        start -= 1
    while start < len(turns) and turns[start].role != "user":
        start += 1
    return start


def summary_prompt(previous: str) -> str:
    """The prompt that asks for a summary of the turns before it (and of `previous`)."""
    if previous:
        return f"The summary so far:\n{previous}\n\nWrite the new summary."
    return "Write the summary of the conversation above."


def _folded(turns: tuple[Turn, ...], room: int) -> tuple[Turn, ...]:
    """The turns to summarise, clipped so that together they fit in `room` tokens (the oldest
    left out when even clipped they would not)."""
    share = room * CHARS_PER_TOKEN // max(len(turns), 1) - 8  # 8: the clip mark and rounding
    each = max(SUMMARY_TURN_MIN_CHARS, min(SUMMARY_TURN_CHARS, share))
    clipped = [t if len(t.text) <= each else Turn(t.role, t.text[:each] + " …") for t in turns]
    while len(clipped) > 1 and sum(estimate_tokens(t.text) for t in clipped) > room:
        clipped.pop(0)
    return tuple(clipped)
