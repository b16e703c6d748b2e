"""`generation` events of a user's own generations, on their `user:{id}` room.

`ageneration_event` tells `user:{id}` that one of their generations started, completed or
failed (`create` when it starts, `update` when it ends; the payload is the runner's:
conversation and message ids, kind, status). Lesson generation status events are `learning`'s
(`learning.lesson_events`), sent from every transition of `lessons.services`.
"""

from collections.abc import Mapping
from typing import Any

from realtime.publish import apublish_event


async def ageneration_event(*, user_id: int, action: str, payload: Mapping[str, Any]) -> None:
    """Publish `generation` to the user's room, from the event loop."""
    await apublish_event(room=f"user:{user_id}", event="generation", action=action, payload=payload)
