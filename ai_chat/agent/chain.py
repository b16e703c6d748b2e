"""The provider chain as configured: its entries, what is wrong with them, and their agents.

`AI_PROVIDERS` lists the chain in order; without it, `AI_PROVIDER` alone is a chain of one (as
before the chain existed). `gemini` is the GeminiAgent (`GEMINI_*`); every other name is an
OpenAI-compatible endpoint (`AI_PROVIDER_<NAME>_*`). `offline` serves placeholder content and is
used only alone: placeholders must never stand in silently for a model that is down.
"""

from dataclasses import dataclass, field

from django.conf import settings

from ai_chat.agent.base import READERS, Agent
from ai_chat.agent.breaker import BREAKERS, BreakerRegistry
from ai_chat.agent.schema import Structured

BUILTIN = ("gemini", "offline")


@dataclass(frozen=True)
class Entry:
    """One provider of the chain, as configured (the key is never shown)."""

    name: str
    base_url: str = ""
    model: str = ""
    structured: str = ""
    api_key: str = field(default="", repr=False)

    @property
    def kind(self) -> str:
        return self.name if self.name in BUILTIN else "openai"

    @property
    def configured(self) -> bool:
        return not entry_problems(self)


def chain_names() -> list[str]:
    """The configured chain's provider names, in order."""
    return list(settings.AI_PROVIDERS) or [settings.AI_PROVIDER]


def chain_entries() -> list[Entry]:
    """The configured chain."""
    entries = []
    for name in chain_names():
        if name == "gemini":
            entries.append(
                Entry(
                    name,
                    settings.GEMINI_BASE_URL,
                    settings.GEMINI_MODEL,
                    "json_schema",
                    settings.GEMINI_API_KEY,
                )
            )
        elif name == "offline":
            entries.append(Entry(name, model="offline-placeholder"))
        else:
            values = settings.AI_PROVIDER_ENTRIES.get(name, {})
            entries.append(
                Entry(
                    name,
                    values.get("base_url", ""),
                    values.get("model", ""),
                    values.get("structured") or Structured.NONE.value,
                    values.get("api_key", ""),
                )
            )
    return entries


def entry_problems(entry: Entry) -> list[str]:
    """What keeps this entry from being used, in words a person can act on."""
    if entry.kind == "offline":
        return []
    if entry.kind == "gemini":
        problems = [] if entry.api_key else ["GEMINI_API_KEY is not set"]
        return problems + _reader_problems("GEMINI_READER")
    prefix = f"AI_PROVIDER_{entry.name.upper()}_"
    problems = [
        f"{prefix}{suffix} is not set"
        for suffix, value in (
            ("BASE_URL", entry.base_url),
            ("API_KEY", entry.api_key),
            ("MODEL", entry.model),
        )
        if not value
    ]
    if entry.structured not in {s.value for s in Structured}:
        choices = ", ".join(s.value for s in Structured)
        problems.append(f"{prefix}STRUCTURED must be one of {choices}, not {entry.structured!r}")
    return problems + _reader_problems("AI_COMPAT_READER")


def _reader_problems(name: str) -> list[str]:
    """A reader setting (GEMINI_READER, AI_COMPAT_READER) that names no reader."""
    value = getattr(settings, name)
    return [] if value in READERS else [f"{name} must be {' or '.join(READERS)}, not {value!r}"]


def chain_problems() -> list[str]:
    """What is wrong with the chain as a whole and with each of its entries."""
    names = chain_names()
    problems: list[str] = []
    if not settings.AI_PROVIDERS and settings.AI_PROVIDER not in BUILTIN:
        problems.append(f"AI_PROVIDER must be 'gemini' or 'offline', not {names[0]!r}")
        return problems
    if "offline" in names and len(names) > 1:
        problems.append("'offline' serves placeholder content and may only be used alone")
    if len(set(names)) != len(names):
        problems.append("AI_PROVIDERS names a provider twice")
    for entry in chain_entries():
        problems.extend(f"{entry.name}: {p}" for p in entry_problems(entry))
    return problems


def build_provider(entry: Entry) -> Agent:
    """The agent of one entry (raises ValueError when it is not configured)."""
    if entry.kind == "offline":
        from ai_chat.agent.offline import OfflineAgent

        return OfflineAgent(
            chunk_size=settings.OFFLINE_CHUNK_SIZE,
            chunk_delay=settings.OFFLINE_CHUNK_DELAY_MS / 1000,
        )
    if entry.kind == "gemini":
        from ai_chat.agent.gemini import GeminiAgent

        return GeminiAgent.from_settings()
    from ai_chat.agent.openai_compat import OpenAICompatibleAgent

    problems = entry_problems(entry)
    if problems:
        raise ValueError(f"provider {entry.name!r}: {'; '.join(problems)}")
    return OpenAICompatibleAgent(
        name=entry.name,
        base_url=entry.base_url,
        api_key=entry.api_key,
        model=entry.model,
        structured=entry.structured,
        timeout_seconds=settings.AI_COMPAT_TIMEOUT_SECONDS,
        stall_seconds=settings.AI_COMPAT_STALL_SECONDS,
        max_retries=settings.AI_COMPAT_MAX_RETRIES,
        max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS,
        reader=settings.AI_COMPAT_READER,
    )


def build_chain(
    entries: list[Entry] | None = None, *, breakers: BreakerRegistry = BREAKERS
) -> Agent:
    """The agent of a chain (the configured one by default): offline alone as it is, anything
    else behind a FallbackAgent. Raises ValueError, saying why, when it cannot be used."""
    from ai_chat.agent.fallback import FallbackAgent, Link

    if entries is None:
        problems = chain_problems()
        if problems:
            raise ValueError("; ".join(problems))
        entries = chain_entries()
    if [entry.kind for entry in entries] == ["offline"]:
        return build_provider(entries[0])
    links = []
    for entry in entries:
        breaker = breakers.get(
            (entry.name, entry.base_url, entry.model),
            threshold=settings.AI_BREAKER_THRESHOLD,
            cooldown=settings.AI_BREAKER_COOLDOWN_SECONDS,
        )
        links.append(Link(build_provider(entry), breaker))
    return FallbackAgent(links)
