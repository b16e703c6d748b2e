"""The provider check of `/healthz` (registered with `ops.health` in `AiChatConfig.ready`)."""

from typing import Any

from ai_chat.agent.chain import chain_entries, chain_problems


async def provider_check(timeout: float) -> dict[str, Any]:
    """Whether the configured chain can be used: by configuration only, no model request."""
    entries = chain_entries()
    configured = not chain_problems()
    return {
        "ok": configured,
        "name": ",".join(entry.name for entry in entries),
        "configured": configured,
        "chain": [{"name": e.name, "configured": e.configured} for e in entries],
    }
