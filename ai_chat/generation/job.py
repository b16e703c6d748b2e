"""`GenerationJob`: everything one generation needs, prepared before it starts."""

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai_chat.agent.attempts import ProviderAttempt
from ai_chat.agent.base import GenerationRequest
from ai_chat.kinds.base import ContextSchema, Kind
from ai_chat.services.answer_cache import CacheSlot
from ai_chat.services.context import SummaryWork

if TYPE_CHECKING:
    from ai_chat.generation.recording import Recorder


@dataclass
class GenerationJob:
    user_id: int
    conversation_id: str
    message_id: str
    kind: Kind
    context: ContextSchema
    request: GenerationRequest
    recorder: "Recorder"
    started_at: float = field(default_factory=time.monotonic)
    # Every provider attempt of this generation (the fallback chain's register), stored with it.
    attempts: list[ProviderAttempt] = field(default_factory=list)
    # Earlier turns to fold into the conversation's summary before answering (bounded context).
    summary: SummaryWork | None = None
    # The tutor: an answer already known (from the answer cache), given without a provider.
    cached_answer: str | None = None
    # Where the model's answer is kept for the next time this question is asked (answer cache).
    cache_slot: CacheSlot | None = None
    # The answer built from the grounding rows when every provider is down (`Kind.fallback_answer`).
    fallback_answer: str | None = None

    @property
    def conversation_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.conversation_id)

    @property
    def message_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.message_id)

    def latency_ms(self) -> int:
        return int((time.monotonic() - self.started_at) * 1000)
