"""`GenerationJob`: everything one generation needs, prepared before it starts."""

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai_chat.agent.attempts import ProviderAttempt
from ai_chat.agent.base import GenerationRequest
from ai_chat.kinds.base import ContextSchema, Kind
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

    @property
    def conversation_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.conversation_id)

    @property
    def message_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.message_id)

    def latency_ms(self) -> int:
        return int((time.monotonic() - self.started_at) * 1000)
