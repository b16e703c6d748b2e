"""`/metrics` and the metrics API: every metric exposed, bounded labels, access control."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from ops import metrics
from ops.metrics import REGISTRY

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db

METRIC_NAMES = (
    "lectern_ws_connections_open",
    "lectern_generations_total",
    "lectern_chunk_latency_seconds_bucket",
    "lectern_error_frames_total",
    "lectern_tokens_total",
    "lectern_events_published_total",
    "lectern_events_delivered_total",
)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def exposed_label_values(label: str) -> set[str]:
    return {
        sample.labels[label]
        for family in REGISTRY.collect()
        if family.name.startswith("lectern_")
        for sample in family.samples
        if label in sample.labels
    }


@pytest.fixture(autouse=True)
def loopback_only(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "::1"]
    settings.TRUSTED_PROXIES = []


def test_metrics_exposes_every_metric_after_the_api_is_called(client):
    metrics.connection_opened("quiz")
    metrics.generation_finished("quiz", "completed")
    metrics.observe_chunk_latency("quiz", 0.003)
    metrics.error_frame("rate_limited")
    metrics.tokens_used("quiz", 120, 480)
    metrics.event_published("progress")
    metrics.event_delivered("progress")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for name in METRIC_NAMES:
        assert f"\n{name}{{" in text, name
    assert 'lectern_tokens_total{direction="output",kind="quiz"}' in text
    metrics.connection_closed("quiz")


def test_the_api_moves_the_values_it_names():
    before = {
        "open": value("lectern_ws_connections_open", endpoint="course"),
        "done": value("lectern_generations_total", kind="course", outcome="cancelled"),
        "in": value("lectern_tokens_total", kind="course", direction="input"),
        "out": value("lectern_tokens_total", kind="course", direction="output"),
        "code": value("lectern_error_frames_total", code="busy"),
        "chunks": value("lectern_chunk_latency_seconds_count", kind="course"),
        "fast": value("lectern_chunk_latency_seconds_bucket", kind="course", le="0.005"),
        "pub": value("lectern_events_published_total", event="presence"),
        "del": value("lectern_events_delivered_total", event="presence"),
    }

    metrics.connection_opened("course")
    metrics.connection_opened("course")
    metrics.connection_closed("course")
    metrics.generation_finished("course", "cancelled")
    metrics.tokens_used("course", 10, 32)
    metrics.error_frame("busy")
    metrics.observe_chunk_latency("course", 0.002)
    metrics.observe_chunk_latency("course", 0.4)
    metrics.event_published("presence")
    for _ in range(3):
        metrics.event_delivered("presence")

    assert value("lectern_ws_connections_open", endpoint="course") == before["open"] + 1
    assert value("lectern_generations_total", kind="course", outcome="cancelled") == (
        before["done"] + 1
    )
    assert value("lectern_tokens_total", kind="course", direction="input") == before["in"] + 10
    assert value("lectern_tokens_total", kind="course", direction="output") == before["out"] + 32
    assert value("lectern_error_frames_total", code="busy") == before["code"] + 1
    assert value("lectern_chunk_latency_seconds_count", kind="course") == before["chunks"] + 2
    assert value("lectern_chunk_latency_seconds_bucket", kind="course", le="0.005") == (
        before["fast"] + 1
    )
    assert value("lectern_events_published_total", event="presence") == before["pub"] + 1
    assert value("lectern_events_delivered_total", event="presence") == before["del"] + 3
    metrics.connection_closed("course")


def test_known_series_exist_at_zero_before_anything_happens():
    """Alerts and rate() see every known series from the process's start."""
    assert (
        REGISTRY.get_sample_value(
            "lectern_generations_total", {"kind": "assignment", "outcome": "failed"}
        )
        is not None
    )
    assert (
        REGISTRY.get_sample_value("lectern_error_frames_total", {"code": "user_disabled"})
        is not None
    )


def test_unknown_label_values_are_counted_as_other():
    before = value("lectern_error_frames_total", code="other")

    metrics.error_frame("x" * 500)
    metrics.error_frame("<script>")
    metrics.error_frame(None)  # type: ignore[arg-type]
    metrics.connection_opened("/ws/ai/../../etc/passwd")
    metrics.connection_closed("/ws/ai/../../etc/passwd")
    metrics.generation_finished("course", "exploded")
    metrics.generation_finished("made-up-kind", "completed")
    metrics.tokens_used("made-up-kind", 1, 1)
    metrics.event_published("anything at all")
    metrics.event_delivered("anything at all")
    metrics.observe_chunk_latency("made-up-kind", 0.01)

    assert value("lectern_error_frames_total", code="other") == before + 3
    assert exposed_label_values("code") <= metrics.ERROR_CODES | {"other"}
    assert exposed_label_values("endpoint") <= metrics.ENDPOINTS | {"other"}
    assert exposed_label_values("kind") <= metrics.KINDS | {"other"}
    assert exposed_label_values("outcome") <= metrics.OUTCOMES | {"other"}
    assert exposed_label_values("event") <= metrics.EVENTS | {"other"}
    assert value("lectern_generations_total", kind="course", outcome="exploded") == 0


def test_the_api_ignores_values_a_metric_cannot_take():
    before = value("lectern_tokens_total", kind="chat", direction="input")
    count = value("lectern_chunk_latency_seconds_count", kind="chat")

    metrics.tokens_used("chat", None, -5)
    metrics.tokens_used("chat", -1, 0)
    metrics.observe_chunk_latency("chat", -0.5)
    metrics.observe_chunk_latency("chat", "fast")  # type: ignore[arg-type]

    assert value("lectern_tokens_total", kind="chat", direction="input") == before
    assert value("lectern_chunk_latency_seconds_count", kind="chat") == count


def test_every_wire_error_code_is_a_known_label_value():
    """Every error class registers its code as a label: none reads `other` on the
    dashboards, and a new one needs no list edited."""
    from accounts import firebase
    from sockets import errors

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    codes = {cls.code for cls in subclasses(errors.ProtocolError)}
    codes |= set(firebase.MESSAGES) | {"auth_required", "auth_timeout"}

    assert codes <= metrics.ERROR_CODES


def test_every_kind_is_a_known_label_value():
    from ai_chat.kinds import KINDS, socket_kind_names

    assert set(KINDS) <= metrics.KINDS
    assert set(socket_kind_names()) <= metrics.ENDPOINTS


def test_every_realtime_event_is_a_known_label_value():
    from realtime import registry

    assert set(registry.event_names()) == metrics.EVENTS


# --- chunk latency ----------------------------------------------------------------------------


def test_a_chunk_sent_after_it_was_received_is_observed():
    count = value("lectern_chunk_latency_seconds_count", kind="lesson")

    metrics.chunk_received("m-1", 0)
    metrics.chunk_sent("lesson", "m-1", 0)
    metrics.chunk_sent("lesson", "m-1", 0)  # a second follower of the same chunk
    metrics.chunk_sent("lesson", "m-elsewhere", 3)  # received by another process: unknown

    assert value("lectern_chunk_latency_seconds_count", kind="lesson") == count + 2
    assert value("lectern_chunk_latency_seconds_bucket", kind="lesson", le="0.1") >= 2


def test_the_chunk_clock_forgets_old_and_excess_entries(monkeypatch):
    clock = metrics.ChunkClock(max_age=10.0, max_entries=3)
    for index in range(5):
        clock.received("m", index)
    assert list(clock._received) == [("m", 2), ("m", 3), ("m", 4)]

    now = metrics.time.monotonic()
    monkeypatch.setattr(metrics.time, "monotonic", lambda: now + 11)
    clock.received("m", 5)
    assert list(clock._received) == [("m", 5)]


# --- access -----------------------------------------------------------------------------------


def test_metrics_refuses_a_client_that_is_not_allowed(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403
    assert b"lectern_" not in response.content


def test_metrics_refuses_a_signed_in_user_who_is_not_staff(client, user):
    client.force_login(user)

    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_metrics_serves_a_staff_session_from_anywhere(client, staff_user):
    client.force_login(staff_user)

    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_metrics_allows_listed_networks(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "2001:db8::/32"]

    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_metrics_reads_an_ipv4_mapped_peer_as_ipv4(client):
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200


def test_a_request_forwarded_by_an_unknown_proxy_is_refused(client):
    """A same-host proxy that is not in TRUSTED_PROXIES must not open /metrics to everyone."""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 403


def test_a_trusted_proxy_forwards_the_clients_address(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    settings.METRICS_ALLOWED_IPS = ["192.0.2.7"]

    allowed = client.get("/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.7")
    spoofed = client.get(
        "/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.7, 203.0.113.9"
    )

    assert allowed.status_code == 200
    assert spoofed.status_code == 403


def test_metrics_speaks_openmetrics_when_asked(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


def test_an_invalid_allowed_address_is_a_system_check_error(settings, client):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "prometheus.internal"]

    assert "ops.E001" in {message.id for message in run_checks()}
    assert client.get("/metrics").status_code == 403


# --- several processes ------------------------------------------------------------------------


def test_multiprocess_mode_merges_every_process_and_drops_the_exited_ones_gauges(tmp_path):
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    count = (
        "import django; django.setup(); from ops import metrics;"
        "metrics.error_frame('busy'); metrics.connection_opened('chat')"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    expose = (
        "from prometheus_client import generate_latest; from ops import metrics;"
        "print(generate_latest(metrics.collecting_registry()).decode())"
    )

    text = subprocess.run(
        [sys.executable, "-c", expose],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout

    assert 'lectern_error_frames_total{code="busy"} 2.0' in text
    # Each process marked itself dead at exit: its open connections no longer count.
    assert 'lectern_ws_connections_open{endpoint="chat"} 1.0' not in text
    assert 'lectern_ws_connections_open{endpoint="chat"} 2.0' not in text
