"""`/healthz`: readiness of the database, Redis, the channel layer and the provider."""

import asyncio
import socket
import threading

import pytest
from channels.layers import get_channel_layer
from django.db import OperationalError

from ops import health

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def embedded_defaults(settings):
    """The embedded defaults, whatever the environment running the tests set."""
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.AI_PROVIDER = "offline"
    settings.GEMINI_API_KEY = ""


def test_healthz_is_ok_on_the_embedded_defaults(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert set(checks) == {"database", "redis", "channel_layer", "provider"}
    assert checks["database"]["ok"] is True
    assert checks["redis"] == {"ok": True, "configured": False, "ms": checks["redis"]["ms"]}
    assert checks["channel_layer"]["ok"] is True
    assert checks["channel_layer"]["backend"] == "InMemoryChannelLayer"
    assert checks["provider"]["name"] == "offline"
    assert checks["provider"]["configured"] is True
    assert response["Cache-Control"] == "no-store"


def test_healthz_answers_head_for_load_balancers(client):
    assert client.head("/healthz").status_code == 200


async def test_checks_reuse_one_probe_channel_per_event_loop(async_client):
    """A check does not leave a channel behind (the pub/sub layer would keep it subscribed)."""
    channels = set()
    for _ in range(5):
        assert (await async_client.get("/healthz")).status_code == 200
        channels.add(health._probes[asyncio.get_running_loop()][0])

    assert len(channels) == 1
    layer = get_channel_layer()
    assert not [name for name in layer.channels if health.PROBE_PREFIX in name]


def test_a_failing_database_gives_503_without_the_error_text(client, monkeypatch):
    def broken(deadline):
        raise OperationalError('connection to "db" failed: password=hunter2hunter2')

    monkeypatch.setattr(health, "database_ping", broken)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["channel_layer"]["ok"] is True
    assert "hunter2" not in response.content.decode()


def test_a_hanging_database_is_cut_off_at_the_timeout(client, settings, monkeypatch):
    settings.HEALTHZ_TIMEOUT_SECONDS = 0.3
    release, returned = threading.Event(), threading.Event()

    def hang(deadline):
        release.wait(30)
        returned.set()

    monkeypatch.setattr(health, "database_ping", hang)
    try:
        response = client.get("/healthz")
        # Answered while the ping still hangs: the check was cut off, not waited for.
        assert not returned.is_set()
    finally:
        release.set()

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "error": "timeout",
        "ms": response.json()["checks"]["database"]["ms"],
    }


def test_redis_on_a_closed_port_fails_fast_with_503(client, settings):
    port = closed_port()
    settings.REDIS_URL = f"redis://:s3cret-redis-pass@127.0.0.1:{port}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    redis_check = response.json()["checks"]["redis"]
    assert redis_check["ok"] is False
    assert redis_check["error"] == "ConnectionError"
    assert "s3cret-redis-pass" not in response.content.decode()
    assert str(port) not in response.content.decode()


def test_a_channel_layer_that_cannot_round_trip_fails_within_the_timeout(client, settings):
    settings.HEALTHZ_TIMEOUT_SECONDS = 0.5
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{closed_port()}/0"]},
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    layer = response.json()["checks"]["channel_layer"]
    assert layer["ok"] is False
    assert layer["error"]


def test_gemini_without_a_key_is_not_configured(client, settings):
    settings.AI_PROVIDER = "gemini"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["provider"] == {
        "ok": False,
        "name": "gemini",
        "configured": False,
        "chain": [{"name": "gemini", "configured": False}],
        "ms": response.json()["checks"]["provider"]["ms"],
    }


def test_gemini_with_a_key_is_configured_and_the_key_is_not_shown(client, settings):
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "AIzaSyTestKeyThatMustNeverBeShown000000"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["provider"]["configured"] is True
    assert "AIzaSy" not in response.content.decode()


def test_the_provider_check_makes_no_model_request(client, settings, monkeypatch):
    """The provider is judged by configuration only: building an agent is never needed."""
    import ai_chat.agent

    def refuse(*args, **kwargs):
        raise AssertionError("healthz built an agent")

    monkeypatch.setattr(ai_chat.agent, "build_agent", refuse)
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "AIzaSyTestKeyThatMustNeverBeShown000000"

    assert client.get("/healthz").status_code == 200


async def test_healthz_runs_as_an_async_view(async_client):
    response = await async_client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
