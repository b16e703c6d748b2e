"""The classroom tests drive `/ws/events/` like tests/realtime (its fixtures, reused here);
those that need a real Redis use database 9."""

import pytest

from tests.fakes.firebase import firebase, firebase_server  # noqa: F401
from tests.realtime.conftest import events, learner  # noqa: F401
from tests.redis_server import redis_up

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
def redis9(settings):
    """Redis database 9, emptied of Lectern's keys, as REDIS_URL (skipped without Redis)."""
    import redis

    if not redis_up(REDIS_URL):
        pytest.skip(f"needs Redis at {REDIS_URL}")
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("lectern:*", count=1000):
        client.delete(key)
    client.close()
    settings.REDIS_URL = REDIS_URL
    return REDIS_URL
