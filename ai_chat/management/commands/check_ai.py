"""`manage.py check_ai`: one small live request to the configured provider."""

import asyncio
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ai_chat.agent import build_agent
from ai_chat.agent.base import AgentError, Completion, GenerationRequest


class Command(BaseCommand):
    help = "Check the AI provider configuration with one small live request."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agent = build_agent(settings.AI_PROVIDER)
        except Exception as exc:  # misconfiguration: say what is wrong, not a traceback
            raise CommandError(f"provider {settings.AI_PROVIDER!r} cannot start: {exc}") from None
        self.stdout.write(f"provider: {agent.name}")
        self.stdout.write(f"model:    {agent.model}")
        if settings.GEMINI_BASE_URL and agent.name == "gemini":
            self.stdout.write(f"base URL: {settings.GEMINI_BASE_URL}")
        started = time.monotonic()
        try:
            completion = asyncio.run(self._ask(agent))
        except AgentError as exc:
            raise CommandError(f"{type(exc).__name__}: {exc}") from None
        latency = (time.monotonic() - started) * 1000
        self.stdout.write(f"latency:  {latency:.0f} ms")
        self.stdout.write(
            f"tokens:   {completion.usage.input_tokens} in, {completion.usage.output_tokens} out"
        )
        if agent.name == "offline":
            self.stdout.write(
                self.style.WARNING("offline provider: placeholder content, no model involved")
            )
        self.stdout.write(self.style.SUCCESS("ok"))

    async def _ask(self, agent: Any) -> Completion:
        request = GenerationRequest(
            kind="chat",
            instructions="Answer in one word.",
            prompt="Reply with the word: ready",
            max_output_tokens=16,
        )
        try:
            async for event in agent.stream(request):
                if isinstance(event, Completion):
                    return event
        finally:
            await agent.aclose()
        raise AgentError("the provider ended the stream without finishing")
