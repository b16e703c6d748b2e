"""The loop of the server's polls without Redis (notifications, the workers' relayed events)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from django.conf import settings

logger = logging.getLogger(__name__)


async def poll_forever(poll: Callable[[], Awaitable[int]], *, failing: str) -> None:
    """Call `poll` every NOTIFICATIONS_POLL_SECONDS until cancelled; a failure is logged."""
    while True:
        await asyncio.sleep(max(float(settings.NOTIFICATIONS_POLL_SECONDS), 0.1))
        try:
            await poll()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception(failing)
