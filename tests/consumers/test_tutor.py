"""The tutor's welcome, its fallback answer when every provider is down, its answer cache, and a
context update mid-conversation (the plan's `update_context`)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from ai_chat.models import AIDailyUsage, AIMessage
from config.asgi import application
from tests.consumers.conftest import ORIGIN, Client
from tests.fakes.gemini_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)


async def _chat(user, query: str = "") -> tuple[Client, list[dict]]:
    """A signed-in tutor socket opened on `/ws/ai/chat/?{query}`, and its first two frames."""
    communicator = WebsocketCommunicator(application, f"/ws/ai/chat/?{query}", headers=ORIGIN)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    client = Client(communicator)
    return client, [await client.recv(), await client.recv()]


@pytest.fixture
def written(lesson):
    """The lesson, written: content, outline and key terms."""
    lesson.content = "# Variables\n\nA variable is a named box that holds a value."
    lesson.outline = [
        {"heading": "What a variable is", "summary": "A name for a value."},
        {"heading": "Assignment", "summary": "Putting a value in the box."},
    ]
    lesson.key_terms = [{"term": "Variable", "definition": "A named place for a value."}]
    lesson.save()
    return lesson


# --- welcome ---------------------------------------------------------------------------------


async def test_welcome_names_the_lesson_and_course_the_socket_is_opened_on(
    connect, user, written, settings, course
):
    settings.TUTOR_WELCOME = "Hi! Ask me about {topic}."
    client, (auth, welcome) = await _chat(user, f"lesson_id={written.pk}")
    assert auth["type"] == "auth_success"
    assert welcome == {
        "type": "welcome",
        "text": 'Hi! Ask me about the lesson "Variables" of "Intro to Java".',
        "course_id": course.pk,
        "lesson_id": written.pk,
    }
    await client.close()
    client, (_, welcome) = await _chat(user, f"course_id={course.pk}")
    assert welcome["text"] == 'Hi! Ask me about the course "Intro to Java".'
    assert welcome["course_id"] == course.pk and "lesson_id" not in welcome
    await client.close()
    plain = await connect("chat", user)  # no grounding: the general greeting
    assert plain.welcome["text"] == "Hi! Ask me about what you are learning."


async def test_welcome_does_not_reveal_a_lesson_the_user_may_not_view(other_user, written):
    client, (_, welcome) = await _chat(other_user, f"lesson_id={written.pk}")
    assert "Variables" not in welcome["text"] and "lesson_id" not in welcome
    await client.close()


async def test_welcome_off_sends_none(user, settings):
    """TUTOR_WELCOME=off leaves the setting empty: no `welcome` frame."""
    settings.TUTOR_WELCOME = ""
    communicator = WebsocketCommunicator(application, "/ws/ai/chat/", headers=ORIGIN)
    communicator.scope["user"] = user
    await communicator.connect(timeout=10)
    client = Client(communicator)
    assert (await client.recv())["type"] == "auth_success"
    assert (await client.request(type="ping"))["type"] == "pong"
    await client.close()


# --- fallback --------------------------------------------------------------------------------


@pytest.fixture
def provider_down(gemini, settings):
    settings.GEMINI_MAX_RETRIES = 0
    gemini.default = lambda body: Reply.http_error(503, "overloaded")
    return gemini


async def test_every_provider_down_gives_the_lessons_outline_marked_as_fallback(
    connect, user, written, provider_down
):
    client = await connect("chat", user)
    frames = await client.generate("What is a variable?", context={"lesson_id": written.pk})
    done = frames[-1]
    assert done["type"] == "complete" and done["fallback"] is True and "cached" not in done
    text = done["data"]["text"]
    assert "not an answer to your question" in text
    assert "What a variable is" in text and "**Variable**: A named place for a value." in text
    assert text == "".join(f["chunk"] for f in frames if f["type"] == "streaming")
    assert done["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert [f["type"] for f in frames][-2:] == ["typing", "complete"]
    message = await AIMessage.objects.aget(pk=done["message_id"])
    assert (message.origin, message.status, message.content) == ("fallback", "completed", text)
    usage = await AIDailyUsage.objects.aget(user=user)
    assert (usage.used_tokens, usage.reserved_tokens) == (0, 0)  # nothing held, nothing spent
    history = await client.request(type="history", conversation_id=done["conversation_id"])
    assert history["messages"][0]["fallback"] is True


async def test_without_grounding_a_provider_outage_is_an_error(connect, user, provider_down):
    client = await connect("chat", user)
    frames = await client.generate("What is a variable?")
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "ai_unavailable"


# --- answer cache ------------------------------------------------------------------------------


async def _ask(client, question, lesson, **fields):
    frames = await client.generate(question, context={"lesson_id": lesson.pk}, **fields)
    assert frames[-1]["type"] == "complete", frames[-1]
    return frames[-1]


async def _usage(user):
    row = await AIDailyUsage.objects.filter(user=user).afirst()
    return (row.used_tokens, row.reserved_tokens, row.generations) if row else (0, 0, 0)


async def test_the_same_first_question_on_the_same_lesson_is_answered_from_the_cache(
    connect, user, other_user, written, course
):
    client = await connect("chat", user)
    first = await _ask(client, "What is a variable?", written)
    assert "cached" not in first and first["usage"]["output_tokens"] > 0
    spent = await _usage(user)

    again = await _ask(client, "  what is a VARIABLE ", written)  # a new conversation
    assert again["cached"] is True and again["conversation_id"] != first["conversation_id"]
    assert again["data"] == first["data"] and again["model"] == "answer-cache"
    assert again["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert await _usage(user) == spent  # the quota is untouched
    message = await AIMessage.objects.aget(pk=again["message_id"])
    assert (message.origin, message.content) == ("cache", first["data"]["text"])
    history = await client.request(type="history", conversation_id=again["conversation_id"])
    assert [m.get("cached") for m in history["messages"]] == [True, None]

    # A follow-up in a conversation is not a first question: the model answers it.
    follow = await _ask(
        client, "What is a variable?", written, conversation_id=first["conversation_id"]
    )
    assert "cached" not in follow


async def test_a_changed_lesson_is_not_answered_from_the_old_cache(connect, user, written):
    client = await connect("chat", user)
    await _ask(client, "What is a variable?", written)
    written.content += "\n\nA constant is a variable that never changes."
    await database_sync_to_async(written.save)()
    after = await _ask(client, "What is a variable?", written)
    assert "cached" not in after
    assert (await _ask(client, "What is a variable?", written))["cached"] is True


async def test_the_cache_is_bounded_per_lesson(connect, user, written, settings):
    settings.TUTOR_ANSWER_CACHE_SIZE = 2
    client = await connect("chat", user)
    for question in ("One?", "Two?", "Three?"):
        await _ask(client, question, written)
    assert (await _ask(client, "Three?", written))["cached"] is True
    assert "cached" not in await _ask(client, "One?", written)  # the oldest went first


# --- update_context ------------------------------------------------------------------------------


async def test_a_new_context_mid_conversation_grounds_the_next_answers(
    connect, user, written, course, gemini
):
    loops = await course.lessons.aget(position=1)
    loops.content = "A for loop repeats a block a counted number of times."
    await database_sync_to_async(loops.save)()
    client = await connect("chat", user)
    first = await client.generate("Explain this lesson", context={"lesson_id": written.pk})
    cid = first[-1]["conversation_id"]
    moved = await client.generate(
        "And this one?", conversation_id=cid, context={"lesson_id": loops.pk}
    )
    assert moved[-1]["type"] == "complete"
    after = await client.generate("Give an example", conversation_id=cid)  # context kept
    assert after[-1]["type"] == "complete"

    def asked(request) -> str:
        return "".join(p.get("text", "") for p in request.body["contents"][-1]["parts"])

    first_prompt, moved_prompt, after_prompt = (asked(r) for r in gemini.requests)
    assert "named box that holds a value" in first_prompt
    for prompt in (moved_prompt, after_prompt):
        assert "The learner is reading the lesson: Loops" in prompt
        assert "repeats a block" in prompt and "named box" not in prompt
    conversation = await database_sync_to_async(
        lambda: AIMessage.objects.get(pk=after[-1]["message_id"]).conversation
    )()
    assert conversation.context == {"course_id": None, "lesson_id": loops.pk}
