"""An import stage's model call: through `generation_run` like every other generation
(stored conversation and message, validation and re-ask, budget, fallback, provenance)."""

import asyncio
import random
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import models

from ai_chat.agent import build_agent
from ai_chat.exceptions import Busy, QuotaExceeded
from ai_chat.kinds.base import Target
from ai_chat.services.streams import StreamHub
from ai_chat.services.turns import turn_prepare
from ai_chat.services.workers import worker_id
from imports.exceptions import StageFailed, StageRetryable
from jobs.generation import GenerationOutcome, background_generation_run, background_hub

# The codes of a failed generation worth another attempt later.
RETRYABLE = frozenset({"ai_unavailable", "interrupted"})
BUSY_WAITS = 60


async def stage_generate(
    *,
    user: Any,
    kind_name: str,
    content: str,
    context: dict[str, Any],
    target: models.Model,
    agent: Any,
    hub: StreamHub,
) -> GenerationOutcome:
    """One validated result of `kind_name`; StageRetryable / StageFailed with a sentence when
    the model could not give one. Waits (bounded) while the user's generation slots are full."""

    def prepare(model: str) -> Any:
        return turn_prepare(
            user=user,
            kind_name=kind_name,
            content=content,
            context=context,
            conversation_id=None,
            refinement=False,
            model=model,
            worker=worker_id(),
            target=Target(target),  # the import was checked as the caller's when it started
        )

    for _ in range(BUSY_WAITS):
        try:
            outcome = await background_generation_run(prepare=prepare, agent=agent, hub=hub)
            break
        except Busy:  # the user's other generations hold every slot: wait for one
            await asyncio.sleep(0.5 + random.random())
        except QuotaExceeded as spent:
            raise StageFailed(
                f"{spent.message} The import stopped; start the stage again later."
            ) from None
    else:
        raise StageRetryable("Your other generations kept every slot busy.")
    if outcome.status == "completed" and outcome.data is not None:
        return outcome
    message = outcome.error or "The model gave no valid answer."
    if outcome.error_code in RETRYABLE:
        raise StageRetryable(message)
    raise StageFailed(message)


def generate_one(**call: Any) -> GenerationOutcome:
    """`stage_generate` from synchronous code, on the configured provider chain."""

    async def run() -> GenerationOutcome:
        agent = await asyncio.to_thread(build_agent)
        hub = background_hub()
        try:
            return await stage_generate(agent=agent, hub=hub, **call)
        finally:
            if hub.mirror is not None:
                await hub.mirror.aclose()
            await agent.aclose()

    return async_to_sync(run)()


def bound() -> int:
    """How many of a stage's model calls run at once."""
    return max(1, min(settings.IMPORT_ANALYSIS_CONCURRENCY, settings.MAX_CONCURRENT_GENERATIONS))
