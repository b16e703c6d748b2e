"""`/healthz`, `/metrics` and JSON logs from a real daphne process (with Redis, if any)."""

import json

import pytest
import requests

from tests.e2e.server import start_live_server

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


HAS_REDIS = _redis_available()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    env = {"LOG_FORMAT": "json"}
    if HAS_REDIS:
        env["REDIS_URL"] = REDIS_URL
    server = start_live_server(tmp_path_factory.mktemp("ops-live"), **env)
    yield server
    server.stop()


def test_healthz_passes_on_a_real_server(live):
    for _ in range(3):  # the probe channel is reused, not leaked, between checks
        response = requests.get(f"{live.url}/healthz", timeout=10)
        assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks["channel_layer"]["ok"] is True
    if HAS_REDIS:
        assert checks["redis"]["configured"] is True
        assert checks["channel_layer"]["backend"] == "RedisPubSubChannelLayer"
    else:
        assert checks["redis"]["configured"] is False


def test_metrics_are_served_to_loopback_by_a_real_server(live):
    response = requests.get(f"{live.url}/metrics", timeout=10)

    assert response.status_code == 200
    assert "lectern_ws_connections_open" in response.text
    assert "process_resident_memory_bytes" in response.text


def test_the_server_logs_json_lines(live):
    requests.get(f"{live.url}/no-such-page", timeout=10)  # django.request logs a warning

    lines = [line for line in live.log().splitlines() if line.strip()]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"timestamp", "level", "logger", "message"} <= set(record)
