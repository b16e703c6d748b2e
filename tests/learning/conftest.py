"""Learners around the shared course: `ana` owns it, `lea` is enrolled, `bob` is not."""

from contextlib import AbstractContextManager
from typing import Any

import pytest

from learning.models import Enrollment
from realtime import publish


@pytest.fixture
def learner(make_user, course):
    learner = make_user("lea", first_name="Lea")
    Enrollment.objects.create(learner=learner, course=course)
    return learner


class Sent(list):
    """Events sent after commit, as (room, event, action, payload); `with sent():` runs the
    on-commit callbacks registered inside the block when it exits (the test's own transaction
    never commits)."""

    def __init__(self, capture: Any) -> None:
        super().__init__()
        self._capture = capture

    def __call__(self) -> AbstractContextManager[Any]:
        return self._capture(execute=True)

    def to(self, room: str) -> list[tuple[str, str, dict]]:
        return [(event, action, payload) for r, event, action, payload in self if r == room]


@pytest.fixture
def sent(monkeypatch, django_capture_on_commit_callbacks):
    """Record instead of sending: the recipients of each event, without a channel layer."""
    events = Sent(django_capture_on_commit_callbacks)

    def record(event: publish.Event) -> None:
        events.append((event.room.name, event.event, event.action, event.payload))

    monkeypatch.setattr(publish, "send_now", record)
    return events
