"""Background jobs go through the same provider chain as the WebSocket endpoints."""

import json

import pytest

from ai_chat.kinds import get_kind
from ai_chat.models import AIMessage
from jobs.services.requests import lesson_generate_request
from jobs.services.run import job_run
from tests.fakes import openai_server as openai_fake
from tests.fakes.gemini_server import Reply as GeminiReply
from tests.fakes.gemini_server import placeholder_reply
from tests.fakes.openai_server import Reply as OpenAIReply

openai_server = openai_fake.openai_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chain(settings, gemini_server, openai_server):
    """AI_PROVIDERS=gemini,qwen: Gemini on its fake (no retries), qwen on the OpenAI fake."""
    settings.AI_PROVIDERS = ["gemini", "qwen"]
    settings.AI_PROVIDER_ENTRIES = {
        "qwen": {
            "base_url": openai_server.base_url,
            "api_key": "sk-qwen-test",
            "model": "qwen-test",
            "structured": "json_object",
        }
    }
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = gemini_server.url
    settings.GEMINI_MODEL = "gemini-test"
    settings.GEMINI_MAX_RETRIES = 0
    settings.AI_COMPAT_MAX_RETRIES = 0
    return gemini_server, openai_server


def test_a_lesson_job_falls_over_to_the_next_provider(user, lesson, chain):
    """Gemini down: the job's lesson is written by qwen; the job and its message name qwen's
    model, and the message keeps both attempts."""
    gemini, qwen = chain
    gemini.push(GeminiReply.http_error(503))
    result = get_kind("lesson").placeholder(prompt="Loops", context={"lesson_id": lesson.pk})
    qwen.push(OpenAIReply.text(json.dumps(result), size=80, model="qwen-plus-2026"))
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    assert job_run(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    lesson.refresh_from_db()
    assert lesson.generation_status == "completed"
    assert job.model == "qwen-plus-2026"
    message = AIMessage.objects.get(pk=job.message_id)
    assert message.model == "qwen-plus-2026"
    assert list(message.provider_attempts.values_list("provider", "outcome", "error_code")) == [
        ("gemini", "unavailable", "http_503"),
        ("qwen", "answered", ""),
    ]


def test_the_whole_chain_down_fails_the_lesson_readably_and_a_retry_works(
    user, lesson, chain, settings
):
    """Every provider unavailable on every attempt: the job is retried, then the lesson ends
    `failed` with a sentence (no traceback, no provider's key or URL); once the providers are
    back, asking again generates it."""
    from jobs.models import LessonJob

    gemini, qwen = chain
    settings.JOB_MAX_ATTEMPTS = 2
    settings.AI_BREAKER_THRESHOLD = 100  # every attempt asks both providers
    gemini.default = lambda _body: GeminiReply.http_error(503, "overloaded")
    qwen.default = lambda _body: OpenAIReply.http_error(502, "bad gateway")
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    assert job_run(job_id=job.pk) == "retrying"
    assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    lesson.refresh_from_db()
    assert (job.status, job.attempts, job.error_code) == ("failed", 2, "ai_unavailable")
    assert lesson.generation_status == "failed"
    error = lesson.generation_error
    assert error and "Traceback" not in error and "127.0.0.1" not in error
    assert "sk-qwen-test" not in error and "test-key" not in error
    message = AIMessage.objects.get(pk=job.message_id)
    assert list(message.provider_attempts.values_list("provider", "outcome")) == [
        ("gemini", "unavailable"),
        ("qwen", "unavailable"),
    ]

    gemini.default = placeholder_reply
    retry = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    assert retry.pk != job.pk
    assert job_run(job_id=retry.pk) == "succeeded"
    lesson.refresh_from_db()
    assert lesson.generation_status == "completed" and lesson.generation_error == ""
    assert LessonJob.objects.get(pk=retry.pk).status == "succeeded"
