"""The daily token budget: reserve an estimate up front, settle with real usage, refund."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ai_chat.exceptions import QuotaExceeded
from ai_chat.models import AIDailyUsage


@dataclass(frozen=True)
class Reservation:
    user_id: int
    day: dt.date
    tokens: int


def seconds_until_tomorrow(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def quota_reserve(*, user_id: int, tokens: int) -> Reservation:
    """Hold `tokens` of today's budget, or raise `QuotaExceeded` when they do not fit.

    One conditional UPDATE does the check and the hold, so concurrent reservations (any
    process) cannot overspend; the day's row is inserted by the first reservation of the day.
    """
    day = timezone.now().date()
    budget = settings.DAILY_TOKEN_BUDGET
    for _ in range(2):
        held = (
            AIDailyUsage.objects.filter(user_id=user_id, day=day)
            .alias(committed=F("used_tokens") + F("reserved_tokens"))
            .filter(committed__lte=budget - tokens)
            .update(reserved_tokens=F("reserved_tokens") + tokens, generations=F("generations") + 1)
        )
        if held:
            return Reservation(user_id=user_id, day=day, tokens=tokens)
        # get_or_create inserts in a savepoint and falls back to a read if another process won.
        _, created = AIDailyUsage.objects.get_or_create(user_id=user_id, day=day)
        if not created:
            break
    raise QuotaExceeded(
        f"Today's budget of {budget} tokens is spent.", retry_after=seconds_until_tomorrow()
    )


def quota_settle(*, reservation: Reservation, used_tokens: int) -> None:
    """Replace the reservation with what the generation really used."""
    AIDailyUsage.objects.filter(user_id=reservation.user_id, day=reservation.day).update(
        reserved_tokens=F("reserved_tokens") - reservation.tokens,
        used_tokens=F("used_tokens") + used_tokens,
    )


def quota_refund(*, reservation: Reservation, used_tokens: int = 0) -> None:
    """Release a reservation; tokens the provider did bill (a failed stream) still count."""
    quota_settle(reservation=reservation, used_tokens=used_tokens)
