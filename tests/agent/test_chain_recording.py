"""The chain as configured in settings, end to end: `manage.py generate` runs the real runner
over Gemini (fake) then an OpenAI-compatible provider (fake); the attempts are stored with the
message and shown on it in the admin."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ai_chat.agent import get_agent
from ai_chat.agent.gemini import GeminiAgent
from ai_chat.kinds import get_kind
from ai_chat.models import AIMessage, AIProviderAttempt
from tests.fakes import gemini_server as gemini_fake
from tests.fakes import openai_server as openai_fake
from tests.fakes.gemini_server import Reply as GeminiReply
from tests.fakes.openai_server import Reply as OpenAIReply

gemini_server = gemini_fake.gemini_server
openai_server = openai_fake.openai_server

pytestmark = pytest.mark.django_db(transaction=True)

VALID_COURSE = json.dumps(
    get_kind("course").placeholder(prompt="Request: Java", context={"level": "beginner"})
)


@pytest.fixture
def chain(settings, gemini_server, openai_server, monkeypatch):
    """AI_PROVIDERS=gemini,groq with each entry pointing at its fake server."""
    settings.AI_PROVIDERS = ["gemini", "groq"]
    settings.AI_PROVIDER_ENTRIES = {
        "groq": {
            "base_url": openai_server.base_url,
            "api_key": "gsk-test-key",
            "model": "llama-test",
            "structured": "json_object",
        }
    }
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = gemini_server.url
    settings.GEMINI_MODEL = "gemini-test"
    settings.GEMINI_MAX_RETRIES = 1
    settings.AI_COMPAT_MAX_RETRIES = 0
    settings.AI_BREAKER_THRESHOLD = 2
    settings.AI_MAX_VALIDATION_RETRIES = 0
    from_settings = GeminiAgent.from_settings.__func__

    def fast_retries(cls):
        agent = from_settings(cls)
        agent.retry_initial_delay, agent.retry_max_delay = 0.01, 0.05
        return agent

    monkeypatch.setattr(GeminiAgent, "from_settings", classmethod(fast_retries))
    get_agent.cache_clear()
    yield gemini_server, openai_server
    get_agent.cache_clear()


def generate(user):
    """One `manage.py generate` run, as its own process would do it (the command closes the
    agent it used; breakers outlive it, as they outlive agents in a process)."""
    get_agent.cache_clear()
    out = StringIO()
    call_command("generate", "course", "Java", "--user", user.email, stdout=out, stderr=out)
    return out.getvalue()


def test_gemini_down_the_fallback_answers_and_every_attempt_is_stored(chain, user):
    """Gemini 503 twice (its retry included): groq answers; the message names groq's model,
    and two attempts are stored with it, in order, with their timings."""
    gemini, groq = chain
    gemini.push(GeminiReply.http_error(503), GeminiReply.http_error(503))
    groq.push(OpenAIReply.text(VALID_COURSE, size=64, model="llama-3.3-70b-versatile"))
    generate(user)
    message = AIMessage.objects.get(role="assistant")
    assert message.status == "completed"
    assert message.model == "llama-3.3-70b-versatile"
    rows = list(message.provider_attempts.order_by("position"))
    assert [(r.position, r.provider, r.model, r.outcome, r.error_code) for r in rows] == [
        (0, "gemini", "gemini-test", "unavailable", "http_503"),
        (1, "groq", "llama-3.3-70b-versatile", "answered", ""),
    ]
    assert rows[0].first_chunk_ms is None and "503" in rows[0].error
    assert rows[1].first_chunk_ms is not None and rows[1].total_ms >= rows[1].first_chunk_ms
    assert groq.requests[0].body["response_format"] == {"type": "json_object"}


def test_every_provider_down_fails_the_message_with_every_attempt(chain, user):
    """The whole chain down: the generation ends `ai_unavailable`, the message `failed`, and
    the attempts say what each provider did."""
    gemini, groq = chain
    gemini.push(GeminiReply.http_error(503), GeminiReply.http_error(500))
    groq.push(OpenAIReply.http_error(502))
    with pytest.raises(CommandError, match="ai_unavailable"):
        generate(user)
    message = AIMessage.objects.get(role="assistant")
    assert message.status == "failed" and message.error_code == "ai_unavailable"
    assert list(message.provider_attempts.values_list("provider", "outcome", "error_code")) == [
        ("gemini", "unavailable", "http_500"),
        ("groq", "unavailable", "http_502"),
    ]


def test_a_fallback_failing_mid_stream_is_the_model_of_the_failed_message(chain, user):
    """Gemini down, groq fails after its first chunks: the message is `failed`, keeps groq's
    partial text, and names groq's model (the configured one: the stream never said which
    version answered); the chain goes no further."""
    gemini, groq = chain
    gemini.push(GeminiReply.http_error(503), GeminiReply.http_error(503))
    groq.push(OpenAIReply(chunks=['{"title": ', '"Ja'], ending="drop", model="llama-partial"))
    with pytest.raises(CommandError, match="ai_unavailable"):
        generate(user)
    message = AIMessage.objects.get(role="assistant")
    assert message.status == "failed" and message.content == '{"title": "Ja'
    assert message.model == "llama-test"
    assert list(message.provider_attempts.values_list("provider", "outcome")) == [
        ("gemini", "unavailable"),
        ("groq", "failed"),
    ]


def test_an_open_breaker_skips_gemini_and_says_so(chain, user):
    """After two failed generations Gemini's breaker is open: the third asks only groq and
    records Gemini as skipped."""
    gemini, groq = chain
    for _ in range(2):
        gemini.push(GeminiReply.http_error(503), GeminiReply.http_error(503))
        groq.push(OpenAIReply.text(VALID_COURSE, size=64))
        generate(user)
    asked = len(gemini.requests)
    groq.push(OpenAIReply.text(VALID_COURSE, size=64))
    generate(user)
    assert len(gemini.requests) == asked
    last = AIMessage.objects.filter(role="assistant").order_by("-created_at").first()
    assert list(last.provider_attempts.values_list("provider", "outcome", "error_code")) == [
        ("gemini", "skipped", "circuit_open"),
        ("groq", "answered", ""),
    ]


def test_attempts_are_shown_on_the_message_in_the_admin(chain, user, client, staff_user):
    gemini, groq = chain
    gemini.push(GeminiReply.http_error(503), GeminiReply.http_error(503))
    groq.push(OpenAIReply.text(VALID_COURSE, size=64))
    generate(user)
    message = AIMessage.objects.get(role="assistant")
    client.force_login(staff_user)
    page = client.get(reverse("admin:ai_chat_aimessage_change", args=[message.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "provider attempts" in text.lower()
    assert "http_503" in text and "unavailable" in text and "answered" in text
    register = client.get(reverse("admin:ai_chat_aiproviderattempt_changelist"))
    assert register.status_code == 200 and "groq" in register.content.decode()
    assert AIProviderAttempt.objects.count() == 2
    assert "gsk-test-key" not in text and "test-key" not in text


def test_attempts_of_a_deleted_message_are_kept_unlinked(user):
    """The message went away before its end was stored: the attempts are kept, unlinked."""
    from datetime import UTC, datetime

    from ai_chat.agent.attempts import Outcome, ProviderAttempt
    from ai_chat.services.provider_attempts import attempts_record

    attempt = ProviderAttempt("groq", "llama", Outcome.ANSWERED, datetime.now(UTC), total_ms=5)
    rows = attempts_record(message_id="00000000-0000-0000-0000-000000000001", attempts=[attempt])
    assert [(r.message_id, r.provider) for r in rows] == [(None, "groq")]
    assert AIProviderAttempt.objects.get().message_id is None
