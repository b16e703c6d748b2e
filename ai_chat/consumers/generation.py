"""The generation endpoints: one consumer class, given its kind by routing."""

from ai_chat.consumers.base import BaseAIConsumer


class GenerationConsumer(BaseAIConsumer):
    """A structured generation endpoint (course, lesson, quiz...): `as_asgi(kind=...)`."""
