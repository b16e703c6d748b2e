"""Jobs under test: sends to the broker are recorded instead of made; fast heartbeats."""

import pytest

from learning.models import Enrollment
from tests.fakes.gemini_server import gemini_server  # noqa: F401


@pytest.fixture(autouse=True)
def fast_jobs(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.05
    settings.OFFLINE_CHUNK_DELAY_MS = 0
    settings.AI_PROVIDER = "offline"
    settings.JOB_RETRY_BACKOFF_SECONDS = 1


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    """The jobs handed to the broker (after commit), as (job_id, countdown)."""
    calls: list[tuple[int, float]] = []
    monkeypatch.setattr(
        "jobs.services.queue._send",
        lambda job_id, _task, countdown: calls.append((job_id, countdown)),
    )
    return calls


@pytest.fixture
def learner(make_user, course):
    learner = make_user("lea")
    Enrollment.objects.create(learner=learner, course=course)
    return learner
