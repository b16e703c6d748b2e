"""The provider in use, built once per process from settings."""

from functools import lru_cache

from ai_chat.agent.base import Agent


@lru_cache(maxsize=1)
def get_agent() -> Agent:
    """The configured chain; one instance (and one HTTP client per provider) per process."""
    return build_agent()


def build_agent(provider: str | None = None) -> Agent:
    """The configured chain (`AI_PROVIDERS`, else `AI_PROVIDER`), or the one provider named.

    Raises ValueError, saying what is missing, when it cannot be used.
    """
    from ai_chat.agent.chain import build_chain, chain_entries

    if provider is None:
        return build_chain()
    entries = [entry for entry in chain_entries() if entry.name == provider]
    if not entries and provider in ("gemini", "offline"):
        from ai_chat.agent.chain import Entry

        entries = [Entry(provider)]
    if not entries:
        raise ValueError(f"unknown AI provider {provider!r}: not in the configured chain")
    return build_chain(entries)
