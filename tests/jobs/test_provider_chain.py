"""Background jobs go through the same provider chain as the WebSocket endpoints."""

import json

import pytest

from ai_chat.kinds import get_kind
from ai_chat.models import AIMessage
from jobs.services.requests import lesson_generate_request
from jobs.services.run import job_run
from tests.fakes import openai_server as openai_fake
from tests.fakes.gemini_server import Reply as GeminiReply
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
