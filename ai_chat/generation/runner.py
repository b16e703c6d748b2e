"""`GenerationRunner`: starts, tracks, cancels and shuts down the generations of a process.

It owns nothing of a generation but its task: `generation_run` does the work.
"""

import asyncio

from ai_chat.agent.base import Agent
from ai_chat.generation.job import GenerationJob
from ai_chat.generation.run import generation_run
from ai_chat.services.streams import StreamHub


class GenerationRunner:
    def __init__(self, *, hub: StreamHub, agent: Agent) -> None:
        self.hub = hub
        self.agent = agent
        self._running: dict[str, asyncio.Task[str]] = {}

    def start(self, job: GenerationJob) -> asyncio.Task[str]:
        """Start `job` in its own task (not the caller's: a socket closing does not stop it)."""
        self.hub.open(job.message_id)
        task = asyncio.get_running_loop().create_task(
            generation_run(job=job, agent=self.agent, hub=self.hub),
            name=f"generation:{job.message_id}",
        )
        self._running[job.conversation_id] = task
        task.add_done_callback(lambda done: self._forget(job.conversation_id, done))
        return task

    def _forget(self, conversation_id: str, task: asyncio.Task[str]) -> None:
        if self._running.get(conversation_id) is task:
            del self._running[conversation_id]

    def cancel(self, conversation_id: str) -> bool:
        """Cancel the conversation's generation if it runs here; whether it did."""
        task = self._running.get(conversation_id)
        if task is None:
            return False
        task.cancel()
        return True

    async def shutdown(self) -> None:
        """Cancel every running generation and wait for each to record it."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
