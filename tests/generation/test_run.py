"""`generation_run` at its own layer: no socket, no runner, the real database and recorder."""

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from channels.db import database_sync_to_async

from ai_chat.agent.base import Completion, GenerationRequest, StreamEvent, TextChunk, Usage
from ai_chat.agent.offline import OfflineAgent
from ai_chat.generation import recording
from ai_chat.generation.recording import MAX_REPORTED_TOKENS
from ai_chat.generation.run import generation_run
from ai_chat.models import AIDailyUsage, AIMessage
from ai_chat.server_frames import CompleteFrame, StreamingFrame
from ai_chat.services.streams import StreamHub
from ai_chat.services.turns import turn_prepare
from sockets.server_frames import ErrorFrame
from tests.e2e.server import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class ScriptedAgent:
    """An agent answering one fixed text with a fixed usage (for what a provider may send)."""

    text: str
    usage: Usage
    name: str = "scripted"
    model: str = "scripted-1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        yield TextChunk(self.text)
        yield Completion(text=self.text, usage=self.usage, finish_reason="STOP", model=self.model)

    async def aclose(self) -> None:
        return None


def prepared(user, kind: str = "chat", content: str = "What is a loop?"):
    return turn_prepare(
        user=user,
        kind_name=kind,
        content=content,
        context=None,
        conversation_id=None,
        refinement=False,
        model="test",
        worker="test-worker",
    )


async def run(user, agent, kind: str = "chat"):
    """Run one generation; return its frames, in order, and its stored message."""
    turn = await database_sync_to_async(prepared)(user, kind)
    hub = StreamHub(ttl=60)
    hub.open(turn.job.message_id)
    frames = []

    async def collect() -> None:
        async for frame in hub.follow(turn.job.message_id):
            frames.append(frame)

    follower = asyncio.ensure_future(collect())
    await asyncio.sleep(0)
    outcome = await generation_run(job=turn.job, agent=agent, hub=hub)
    await follower
    message = await AIMessage.objects.aget(pk=turn.job.message_id)
    return outcome, frames, message


def finals(frames):
    return [f for f in frames if not isinstance(f, StreamingFrame)]


async def test_a_generation_runs_to_its_stored_end_without_a_socket(user):
    outcome, frames, message = await run(user, OfflineAgent(chunk_delay=0), kind="course")
    assert outcome == "completed"
    assert [f.index for f in frames if isinstance(f, StreamingFrame)] == list(
        range(len(frames) - 1)
    )
    (final,) = finals(frames)
    assert isinstance(final, CompleteFrame) and final.data == message.data
    assert message.status == AIMessage.Status.COMPLETED and message.model
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens == 0
    assert usage.used_tokens == message.input_tokens + message.output_tokens > 0


async def test_text_the_database_refuses_is_cleaned_before_it_is_stored(user):
    """A NUL from the model (PostgreSQL refuses it in text and JSON) is dropped, not fatal."""
    agent = ScriptedAgent("Loops\x00 repeat.", Usage(10, 5))
    outcome, _frames, message = await run(user, agent)
    assert outcome == "completed"
    assert message.content == "Loops repeat." and "\x00" not in json.dumps(message.data)


async def test_an_absurd_token_count_is_bounded(user):
    agent = ScriptedAgent("Loops repeat.", Usage(10**15, -3))
    outcome, _frames, message = await run(user, agent)
    assert outcome == "completed"
    assert (message.input_tokens, message.output_tokens) == (MAX_REPORTED_TOKENS, 0)
    usage = await AIDailyUsage.objects.aget(user=user)
    assert usage.reserved_tokens == 0


async def test_a_failure_while_recording_still_ends_with_one_error_frame(user, monkeypatch):
    """Recording the result raises: the client gets `internal_error`, the message ends `failed`
    and the reservation is released: nothing stays `streaming` or reserved."""
    real = recording.message_finish

    def refuse_results(**kwargs):
        if kwargs["status"] == AIMessage.Status.COMPLETED:
            raise RuntimeError("the database refused the row")
        return real(**kwargs)

    monkeypatch.setattr(recording, "message_finish", refuse_results)
    outcome, frames, message = await run(user, OfflineAgent(chunk_delay=0))
    assert outcome == "failed"
    (final,) = finals(frames)
    assert isinstance(final, ErrorFrame) and final.code == "internal_error"
    assert str(final.message_id) == str(message.pk)
    assert message.status == AIMessage.Status.FAILED and message.error_code == "internal_error"
    assert (await AIDailyUsage.objects.aget(user=user)).reserved_tokens == 0


async def test_what_streamed_is_kept_on_the_message_while_it_streams(user, monkeypatch):
    """Checkpoints: while a generation streams, its message holds the text so far (so a
    process that dies leaves its interrupted message with what its client saw)."""
    from ai_chat.generation import run as run_module

    monkeypatch.setattr(run_module, "CHECKPOINT_SECONDS", 0.0)
    turn = await database_sync_to_async(prepared)(user, "course")
    hub = StreamHub(ttl=60)
    seen: list[tuple[str, str]] = []

    async def watch() -> None:
        async for frame in hub.follow(turn.job.message_id):
            if isinstance(frame, StreamingFrame) and frame.index == 20:
                await asyncio.sleep(0.3)  # let the background checkpoint land
                message = await AIMessage.objects.aget(pk=turn.job.message_id)
                seen.append((message.status, message.content))

    hub.open(turn.job.message_id)
    watcher = asyncio.ensure_future(watch())
    await generation_run(job=turn.job, agent=OfflineAgent(chunk_delay=0.02), hub=hub)
    await watcher
    (status, content) = seen[0]
    assert status == AIMessage.Status.STREAMING and content.startswith("{")


def test_a_plain_python_process_runs_a_generation_and_saves_it(tmp_path):
    """`manage.py generate` runs a generation in a process with no server and no socket."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'plain.sqlite3'}",
        "AI_PROVIDER": "offline",
        "OFFLINE_CHUNK_DELAY_MS": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert manage("migrate", "--no-input", "-v0").returncode == 0
    done = manage("generate", "course", "Intro to Java", "--save")
    assert done.returncode == 0, done.stderr
    assert "saved: course" in done.stdout
    check = manage(
        "shell",
        "-v0",
        "-c",
        "from ai_chat.models import AIMessage; from courses.models import Course;"
        "print(AIMessage.objects.filter(role='assistant', status='completed').count(),"
        " Course.objects.count())",
    )
    assert check.stdout.split() == ["1", "1"]
