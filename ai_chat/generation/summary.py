"""Summarising before answering: the turns a long conversation no longer sends are folded into
its stored summary, through the same provider as the answer (its tokens count as the turn's)."""

import logging
from dataclasses import replace

from ai_chat.agent.base import Agent, AgentError, GenerationRequest, Usage
from ai_chat.generation.attempt import attempt_stream
from ai_chat.generation.job import GenerationJob
from ai_chat.services.context import (
    SUMMARY_INSTRUCTIONS,
    SUMMARY_TOKENS,
    summary_prompt,
    with_summary,
)

logger = logging.getLogger(__name__)

# A summary longer than this (a provider that ignored the instructions) is cut.
MAX_SUMMARY_CHARS = SUMMARY_TOKENS * 4


async def summary_refresh(job: GenerationJob, agent: Agent) -> Usage:
    """Write the job's pending summary, store it, and send it with the answer; its usage.

    A provider that fails here fails the answer too, most likely; if it does not, the answer is
    asked with the turns kept and without the summary this once (the summary is tried again on
    the next turn).
    """
    work = job.summary
    if work is None:
        return Usage()
    request = GenerationRequest(
        kind=job.kind.name,
        instructions=SUMMARY_INSTRUCTIONS,
        prompt=summary_prompt(work.previous),
        history=work.turns,
        max_output_tokens=SUMMARY_TOKENS,
        user_text=work.previous,
        purpose="summary",
    )
    try:
        attempt = await attempt_stream(job, agent, request, streamed=None, publish=None)
    except AgentError as exc:
        logger.warning("summary for %s not written (%s)", job.conversation_id, exc)
        return Usage()
    summary = attempt.text.strip()[:MAX_SUMMARY_CHARS]
    if summary:
        await job.recorder.record_summary(summary, work.through)
        job.request = replace(
            job.request, instructions=with_summary(job.request.instructions, summary)
        )
    return attempt.usage
