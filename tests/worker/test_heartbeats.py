"""Web and worker processes see each other's heartbeats, with Redis or without (issue 11.8).

Without Redis the sweep used to take every other process for dead: under `make run` the web
process would mark the worker's running generations `interrupted`.
"""

import os
import subprocess
import sys

import pytest

from ai_chat.models import AIConversation, AIMessage
from ai_chat.services import workers
from tests.e2e.server import ROOT


def _streaming_message(user, worker: str) -> AIMessage:
    conversation = AIConversation.objects.create(user=user, kind="lesson", title="Loops")
    return AIMessage.objects.create(
        conversation=conversation, role="assistant", status="streaming", worker=worker
    )


def _heartbeat_from_another_process() -> str:
    """Beat once from a separate Python process with this run's environment; its worker id."""
    code = (
        "import django; django.setup(); from ai_chat.services import workers;"
        "workers.heartbeat(); print(workers.WORKER_ID)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.django_db
def test_a_live_process_s_generation_is_left_alone_and_a_dead_one_s_is_interrupted(user):
    live = _streaming_message(user, _heartbeat_from_another_process())
    dead = _streaming_message(user, "gone-host:4242:deadbeef")
    assert workers.sweep_interrupted() == 1
    live.refresh_from_db()
    dead.refresh_from_db()
    assert live.status == AIMessage.Status.STREAMING
    assert dead.status == AIMessage.Status.INTERRUPTED
