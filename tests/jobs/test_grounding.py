"""GEMINI_GROUNDING: a lesson researched with Google Search, its sources stored and served.

Against the fake Gemini server, which answers a request with the `google_search` tool with
grounding metadata in Gemini's JSON shape and refuses the tool with a JSON schema on Gemini 2.x.
"""

import pytest

from ai_chat.agent.grounding import grounding_one_call
from ai_chat.models import AIMessage
from jobs.services.requests import lesson_generate_request
from jobs.services.run import job_run
from lessons.models import LessonSource
from tests.fakes.gemini_server import Reply, placeholder_reply, sample_grounding

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"


@pytest.fixture(params=["lean", "sdk"])
def grounded(request, settings, gemini_server):
    """Gemini 2.5 on the fake server, with grounding on; each test runs with both readers."""
    settings.GEMINI_READER = request.param
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = gemini_server.url
    settings.GEMINI_MODEL = "gemini-2.5-flash"
    settings.GEMINI_MAX_RETRIES = 0
    settings.GEMINI_GROUNDING = True
    gemini_server.default = placeholder_reply
    return gemini_server


def _run(user, lesson):
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job
    return job, job_run(job_id=job.pk)


@pytest.mark.parametrize(
    ("model", "one"),
    [
        ("gemini-2.5-flash", False),
        ("gemini-2.0-flash-001", False),
        ("gemini-1.5-pro", False),
        ("gemini-3-flash-preview", True),
        ("gemini-3.1-pro-preview", True),
        ("models/gemini-12-ultra", True),
        ("gemini-test", False),
        ("gemma-3-27b-it", False),
    ],
)
def test_one_call_only_where_the_model_takes_search_and_a_schema_together(model, one):
    assert grounding_one_call(model) is one


def test_on_gemini_2_5_research_and_lesson_are_two_stored_turns(user, lesson, grounded):
    job, outcome = _run(user, lesson)
    assert outcome == "succeeded"
    research, write = grounded.requests
    # The research call asks for Google Search, free text; the lesson call a schema, no tool.
    assert research.body["tools"] == [{"googleSearch": {}}]
    assert "responseJsonSchema" not in research.body.get("generationConfig", {})
    assert "tools" not in write.body
    assert write.body["generationConfig"]["responseMimeType"] == "application/json"
    # The lesson call reads the research notes as the conversation's history.
    assert [c["role"] for c in write.body["contents"]] == ["user", "model", "user"]
    assert "fake Gemini server" in write.body["contents"][1]["parts"][0]["text"]

    job.refresh_from_db()
    lesson.refresh_from_db()
    assert lesson.generation_status == "completed"
    sources = list(LessonSource.objects.filter(lesson=lesson).values_list("kind", "title", "uri"))
    assert sources == [
        ("web", "en.wikipedia.org", f"{REDIRECT}AUZIYQ-fake-1"),
        ("web", "docs.python.org", f"{REDIRECT}AUZIYQ-fake-2"),
    ]
    assert lesson.search_suggestions.startswith("<style>")
    assert 'class="chip"' in lesson.search_suggestions
    assert lesson.search_queries == ["the lesson explained", "the lesson examples"]

    # Both turns are stored in one conversation, budgeted, with their provider attempts.
    messages = AIMessage.objects.filter(conversation_id=job.conversation_id, role="assistant")
    notes, written = messages.order_by("created_at")
    assert notes.prompt_version.startswith("lesson-research-")
    assert notes.status == written.status == "completed"
    assert notes.data == {"text": notes.content} and notes.input_tokens > 0
    assert str(written.pk) == str(job.message_id)
    for message in (notes, written):
        assert message.reserved_tokens == 0  # settled
        assert list(message.provider_attempts.values_list("provider", "outcome")) == [
            ("gemini", "answered")
        ]


def test_gemini_2_refuses_search_with_a_schema_in_one_request(grounded, settings, user, lesson):
    """Why two calls: asked for both at once, the (fake, like the real) 2.5 answers 400."""
    import asyncio

    from ai_chat.agent.base import AgentInvalidRequest, GenerationRequest
    from ai_chat.agent.grounding import research_build

    research = research_build()
    request = GenerationRequest(
        kind="lesson", instructions="", prompt="x", result_schema={"type": "object"}
    )

    async def ask() -> None:
        try:
            async for _ in research.gemini.stream(request):
                pass
        finally:
            await research.agent.aclose()

    with pytest.raises(AgentInvalidRequest, match="unsupported"):
        asyncio.run(ask())


def test_on_gemini_3_the_lesson_is_researched_and_written_in_one_call(
    user, lesson, grounded, settings
):
    settings.GEMINI_MODEL = "gemini-3-flash-preview"
    job, outcome = _run(user, lesson)
    assert outcome == "succeeded"
    (only,) = grounded.requests
    assert only.body["tools"] == [{"googleSearch": {}}]
    assert only.body["generationConfig"]["responseMimeType"] == "application/json"
    assert LessonSource.objects.filter(lesson=lesson, kind="web").count() == 2
    job.refresh_from_db()
    assert AIMessage.objects.filter(conversation_id=job.conversation_id).count() == 2  # one turn


def test_a_regeneration_replaces_web_sources_and_keeps_documents(user, lesson, grounded):
    LessonSource.objects.create(lesson=lesson, kind="document", path="docs/intro.md", position=0)
    LessonSource.objects.create(lesson=lesson, kind="web", uri="https://old.example/", position=1)
    grounding = sample_grounding("loops")
    grounding["groundingChunks"] = grounding["groundingChunks"][:1]
    grounded.push(Reply.text("Notes on loops.", grounding=grounding))
    _, outcome = _run(user, lesson)
    assert outcome == "succeeded"
    kept = LessonSource.objects.filter(lesson=lesson).order_by("kind", "position")
    assert [(s.kind, s.path or s.uri) for s in kept] == [
        ("document", "docs/intro.md"),
        ("web", f"{REDIRECT}AUZIYQ-fake-1"),
    ]
    lesson.refresh_from_db()
    assert "loops+explained" in lesson.search_suggestions


def test_research_down_fails_the_attempt_as_retryable_and_writes_nothing(
    user, lesson, grounded, sent
):
    grounded.push(Reply.http_error(503))
    job, outcome = _run(user, lesson)
    assert outcome == "retrying"
    job.refresh_from_db()
    lesson.refresh_from_db()
    assert job.status == "queued" and lesson.generation_status == "generating"
    assert not LessonSource.objects.filter(lesson=lesson).exists()
    assert len(grounded.requests) == 1  # the lesson call was never made


def test_grounding_without_a_gemini_key_is_a_configuration_error(settings):
    from django.core.checks import run_checks

    settings.GEMINI_GROUNDING = True
    settings.GEMINI_API_KEY = ""
    errors = [m for m in run_checks() if m.id == "lectern.E007"]
    assert len(errors) == 1 and "GEMINI_API_KEY" in errors[0].msg
    settings.GEMINI_API_KEY = "key"
    assert not [m for m in run_checks() if m.id == "lectern.E007"]
