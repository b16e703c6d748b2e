"""The shared Redis of the development and CI machines, for tests that need a real one."""

import pytest


def redis_up(url: str) -> bool:
    """Whether Redis answers at `url` (within a second)."""
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


def needs_redis(url: str) -> list[pytest.MarkDecorator]:
    """`pytestmark` of a module that needs Redis at `url`: skipped, with the reason, without."""
    return [
        pytest.mark.redis,
        pytest.mark.skipif(not redis_up(url), reason=f"needs Redis at {url}"),
    ]
