"""`manage.py check_ai`: one small live request to each provider of the configured chain."""

import asyncio
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ai_chat.agent.base import Agent, AgentError, Completion, GenerationRequest
from ai_chat.agent.chain import Entry, build_provider, chain_entries, chain_problems

REQUEST = GenerationRequest(
    kind="chat",
    instructions="Answer in one word.",
    prompt="Reply with the word: ready",
    max_output_tokens=16,
)


class Command(BaseCommand):
    help = "Check each provider of the AI chain with one small live request."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = chain_problems()
        entries = chain_entries()
        self.stdout.write(f"chain:    {' -> '.join(entry.name for entry in entries)}")
        failed = [entry.name for entry in entries if not self._check(entry)]
        if problems or failed:
            reasons = problems + [f"{name} did not answer" for name in failed]
            raise CommandError("; ".join(dict.fromkeys(reasons)))
        self.stdout.write(self.style.SUCCESS("ok"))

    def _check(self, entry: Entry) -> bool:
        """Report one provider; whether it answered."""
        self.stdout.write(f"provider: {entry.name}")
        self.stdout.write(f"model:    {entry.model}")
        if entry.base_url:
            self.stdout.write(f"base URL: {entry.base_url}")
        if entry.kind == "openai":
            self.stdout.write(f"structured output: {entry.structured}")
        try:
            agent = build_provider(entry)
        except Exception as exc:  # misconfiguration: say what is wrong, not a traceback
            self.stdout.write(self.style.ERROR(f"cannot start: {exc}"))
            return False
        started = time.monotonic()
        try:
            completion = asyncio.run(self._ask(agent))
        except AgentError as exc:
            self.stdout.write(self.style.ERROR(f"failed:   {type(exc).__name__}: {exc}"))
            return False
        latency = (time.monotonic() - started) * 1000
        self.stdout.write(f"answered: {completion.model}")
        self.stdout.write(f"latency:  {latency:.0f} ms")
        self.stdout.write(
            f"tokens:   {completion.usage.input_tokens} in, {completion.usage.output_tokens} out"
        )
        if entry.kind == "offline":
            self.stdout.write(
                self.style.WARNING("offline provider: placeholder content, no model involved")
            )
        return True

    async def _ask(self, agent: Agent) -> Completion:
        try:
            async for event in agent.stream(REQUEST):
                if isinstance(event, Completion):
                    return event
        finally:
            await agent.aclose()
        raise AgentError("the provider ended the stream without finishing")
