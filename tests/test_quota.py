"""The daily token budget: one conditional UPDATE holds tokens, so nobody overspends."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from ai_chat.exceptions import QuotaExceeded
from ai_chat.models import AIDailyUsage
from ai_chat.services.quota import quota_reserve, quota_settle


@pytest.mark.django_db
def test_the_first_reservation_of_the_day_creates_the_row(user, settings):
    settings.DAILY_TOKEN_BUDGET = 1000
    reservation = quota_reserve(user_id=user.pk, tokens=400)
    usage = AIDailyUsage.objects.get(user=user, day=reservation.day)
    assert (usage.reserved_tokens, usage.used_tokens, usage.generations) == (400, 0, 1)


@pytest.mark.django_db
def test_later_reservations_are_one_statement(user, settings):
    settings.DAILY_TOKEN_BUDGET = 1000
    quota_reserve(user_id=user.pk, tokens=100)
    with CaptureQueriesContext(connection) as queries:
        quota_reserve(user_id=user.pk, tokens=100)
    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")


@pytest.mark.django_db
def test_a_reservation_that_fits_exactly_is_held_and_one_more_token_is_not(user, settings):
    settings.DAILY_TOKEN_BUDGET = 1000
    first = quota_reserve(user_id=user.pk, tokens=600)
    quota_settle(reservation=first, used_tokens=500)  # 500 used, nothing reserved
    quota_reserve(user_id=user.pk, tokens=500)
    with pytest.raises(QuotaExceeded) as refused:
        quota_reserve(user_id=user.pk, tokens=1)
    assert 1 <= refused.value.retry_after <= 86400
    usage = AIDailyUsage.objects.get(user=user)
    assert (usage.used_tokens, usage.reserved_tokens, usage.generations) == (500, 500, 2)


@pytest.mark.django_db
def test_more_than_the_whole_budget_is_refused_on_a_fresh_day(user, settings):
    settings.DAILY_TOKEN_BUDGET = 1000
    with pytest.raises(QuotaExceeded):
        quota_reserve(user_id=user.pk, tokens=1001)
    assert AIDailyUsage.objects.get(user=user).reserved_tokens == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared-cache in-memory test database refuses concurrent writers instead of "
    "waiting; the PostgreSQL run of the suite (.ci/run) races them for real",
)
def test_concurrent_reservations_never_overspend(user, settings):
    """Twelve threads (each its own database connection) race for a budget that holds five."""
    settings.DAILY_TOKEN_BUDGET = 500

    def reserve() -> bool:
        try:
            quota_reserve(user_id=user.pk, tokens=100)
            return True
        except QuotaExceeded:
            return False
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        held = list(pool.map(lambda _: reserve(), range(12)))
    assert held.count(True) == 5
    usage = AIDailyUsage.objects.get(user=user)
    assert (usage.reserved_tokens, usage.generations) == (500, 5)
