"""The provider in use, built once per process from settings."""

from functools import lru_cache

from django.conf import settings

from ai_chat.agent.base import Agent


@lru_cache(maxsize=1)
def get_agent() -> Agent:
    """The configured provider; one instance (and one HTTP client) per process."""
    return build_agent(settings.AI_PROVIDER)


def build_agent(provider: str) -> Agent:
    if provider == "offline":
        from ai_chat.agent.offline import OfflineAgent

        return OfflineAgent(
            chunk_size=settings.OFFLINE_CHUNK_SIZE,
            chunk_delay=settings.OFFLINE_CHUNK_DELAY_MS / 1000,
        )
    if provider == "gemini":
        from ai_chat.agent.gemini import GeminiAgent

        return GeminiAgent.from_settings()
    raise ValueError(f"unknown AI_PROVIDER {provider!r}: use 'gemini' or 'offline'")
