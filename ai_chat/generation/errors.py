"""How a failed generation is told to its client: each agent failure as a protocol error."""

import logging
import uuid

from ai_chat.agent.base import AgentBlocked, AgentInvalidRequest, AgentTruncated, AgentUnavailable
from ai_chat.exceptions import AIInvalidOutput, AIUnavailable
from ai_chat.generation.job import GenerationJob
from ai_chat.kinds.base import ResultInvalid
from sockets.errors import InternalError, ProtocolError

logger = logging.getLogger(__name__)


def protocol_error_for(exc: BaseException, job: GenerationJob) -> ProtocolError:
    """The error frame's error for a generation that raised `exc` (logged when unexpected)."""
    cid = job.conversation_id
    if isinstance(exc, ProtocolError):
        exc.conversation_id = cid
        return exc
    if isinstance(exc, ResultInvalid):
        return AIInvalidOutput(conversation_id=cid)
    if isinstance(exc, AgentTruncated):
        return AIInvalidOutput(
            "The answer was too long and was cut off; ask for less.", conversation_id=cid
        )
    if isinstance(exc, AgentBlocked):
        return AIInvalidOutput("The model declined to answer this request.", conversation_id=cid)
    if isinstance(exc, AgentUnavailable):
        return AIUnavailable(retry_after=exc.retry_after, conversation_id=cid)
    if isinstance(exc, AgentInvalidRequest):
        logger.error("provider refused the request for %s: %s", job.message_id, exc)
        return AIUnavailable("The AI provider refused the request.", conversation_id=cid)
    return internal_error(job, exc)


def internal_error(job: GenerationJob, exc: BaseException) -> InternalError:
    """`internal_error` with a reference that is in the log, beside the traceback."""
    reference = uuid.uuid4().hex[:12]
    logger.error("generation %s failed [ref %s]", job.message_id, reference, exc_info=exc)
    return InternalError(
        f"Internal error (reference {reference}).", conversation_id=job.conversation_id
    )
