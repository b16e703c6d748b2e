"""Generations on the four endpoints (PROTOCOL.md, "Server frames", "Context per kind").

The offline provider streams a deterministic, schema-valid result in chunks, so each test sees
the whole frame sequence: `conversation`, `started`, `streaming` from index 0, one final frame.
"""

import json

import pytest

from ai_chat.kinds import get_kind
from ai_chat.models import AIConversation, AIMessage
from assessments.models import Assignment
from courses.models import Course
from lessons.models import Lesson
from tests.consumers.conftest import GENERATION_KINDS, streaming

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def others_rows(other_user):
    """A course, lesson and assignment owned by another user."""
    course = Course.objects.create(owner=other_user, title="Bob's course")
    lesson = course.lessons.create(position=0, title="Bob's lesson")
    assignment = Assignment.objects.create(course=course, lesson=lesson, title="Bob's homework")
    return {"course": course, "lesson": lesson, "assignment": assignment}


def assert_generation(frames, *, kind, created=True):
    """The frame sequence of one successful generation; returns the `complete` frame."""
    conversation, started, *rest = frames
    assert conversation["type"] == "conversation", conversation
    assert conversation["kind"] == kind and conversation["created"] is created
    assert isinstance(conversation["title"], str) and conversation["title"]
    assert started["type"] == "started"
    assert started["conversation_id"] == conversation["conversation_id"]
    chunks = streaming(rest)
    assert rest[:-1] == chunks, [f["type"] for f in rest]
    assert [f["index"] for f in chunks] == list(range(len(chunks)))
    ids = {"conversation_id": started["conversation_id"], "message_id": started["message_id"]}
    assert all({k: f[k] for k in ids} == ids for f in chunks)
    complete = rest[-1]
    assert complete["type"] == "complete", complete
    assert {k: complete[k] for k in ids} == ids
    assert set(complete["usage"]) == {"input_tokens", "output_tokens"}
    assert complete["usage"]["output_tokens"] > 0
    assert complete["model"] == "offline-placeholder"
    # The streamed text is the result's text, whole and in order (the result is normalised:
    # strings stripped, defaults filled in).
    streamed = json.loads("".join(f["chunk"] for f in chunks))
    assert set(streamed) <= set(complete["data"])
    return complete


@pytest.mark.parametrize("kind", GENERATION_KINDS)
async def test_generation_streams_then_completes_once(connect, user, contexts, kind):
    """Each endpoint sends conversation, started, streaming 0..n and exactly one complete."""
    client = await connect(kind, user)
    frames = await client.generate("Write it, please", context=contexts[kind], request_id="g")
    complete = assert_generation(frames, kind=kind)
    assert len(streaming(frames)) > 2
    assert await client.nothing(0.2)  # nothing after the final frame
    message = await AIMessage.objects.aget(pk=complete["message_id"])
    assert message.status == AIMessage.Status.COMPLETED
    assert message.data == complete["data"]
    assert message.model == "offline-placeholder"
    assert message.prompt_version == get_kind(kind).prompt_version
    assert (message.input_tokens, message.output_tokens) == (
        complete["usage"]["input_tokens"],
        complete["usage"]["output_tokens"],
    )
    await client.assert_open()


@pytest.mark.parametrize("kind", GENERATION_KINDS)
async def test_structured_kinds_send_partial_results_while_streaming(connect, user, contexts, kind):
    """Some `streaming` frames carry `partial`: the structured result parsed so far."""
    client = await connect(kind, user)
    frames = await client.generate("Write it, please", context=contexts[kind])
    partials = [f["partial"] for f in streaming(frames) if "partial" in f]
    assert partials, "no streaming frame carried a partial result"
    assert all(isinstance(p, dict) for p in partials)
    final = frames[-1]["data"]
    assert set(partials[-1]) <= set(final)


async def test_quiz_has_the_requested_count_and_types(connect, user, lesson):
    """A quiz result has exactly `question_count` questions, only of the requested types."""
    client = await connect("quiz", user)
    context = {"lesson_id": lesson.pk, "question_count": 7, "question_types": ["true_false"]}
    frames = await client.generate("Quiz me", context=context)
    questions = assert_generation(frames, kind="quiz")["data"]["questions"]
    assert len(questions) == 7
    assert {q["type"] for q in questions} == {"true_false"}
    assert all(q["options"] == ["True", "False"] and q["answer"] in q["options"] for q in questions)


async def test_quiz_defaults_to_five_multiple_choice_questions(connect, user, lesson):
    """Without count or types, a quiz has 5 multiple-choice questions whose answer is an option."""
    client = await connect("quiz", user)
    frames = await client.generate("Quiz me", context={"lesson_id": lesson.pk})
    questions = assert_generation(frames, kind="quiz")["data"]["questions"]
    assert len(questions) == 5
    assert all(q["type"] == "multiple_choice" and q["answer"] in q["options"] for q in questions)


async def test_assignment_has_the_requested_count_and_types(connect, user, assignment):
    """An assignment result has exactly `question_count` questions of the requested types."""
    client = await connect("assignment", user)
    context = {"assignment_id": assignment.pk, "question_count": 3, "question_types": ["coding"]}
    frames = await client.generate("Homework", context=context)
    questions = assert_generation(frames, kind="assignment")["data"]["questions"]
    assert [q["type"] for q in questions] == ["coding"] * 3
    assert all(q["rubric"] for q in questions)


async def test_course_result_echoes_the_context(connect, user):
    """A course's level, age range and category come from its context."""
    client = await connect("course", user)
    context = {"age_range": "13+", "level": "advanced", "category": "maths"}
    data = assert_generation(await client.generate("Algebra", context=context), kind="course")[
        "data"
    ]
    assert (data["level"], data["age_range"], data["category"]) == ("advanced", "13+", "maths")
    assert data["modules"] and all(m["lessons"] for m in data["modules"])


async def test_lesson_conversation_is_titled_after_the_lesson(connect, user, lesson):
    """A lesson conversation's title names the lesson; it is tied to the lesson and course."""
    client = await connect("lesson", user)
    frames = await client.generate("Write it", context={"lesson_id": lesson.pk})
    assert frames[0]["title"] == "Lesson: Variables"
    conversation = await AIConversation.objects.select_related("target_type").aget(
        pk=frames[0]["conversation_id"]
    )
    # What it is about: the lesson, as a generic relation (any model a kind is about).
    assert (conversation.target_type.model_class(), conversation.target_id) == (Lesson, lesson.pk)


async def test_continuing_a_conversation_is_not_created(connect, user):
    """A `message` with `conversation_id` continues it: `created` false, same conversation."""
    client = await connect("course", user)
    first = await client.generate("Intro to Java")
    cid = first[0]["conversation_id"]
    second = await client.generate("Now for teenagers", conversation_id=cid)
    assert_generation(second, kind="course", created=False)
    assert second[0]["conversation_id"] == cid
    assert second[1]["message_id"] != first[1]["message_id"]
    assert await AIConversation.objects.acount() == 1
    assert await AIMessage.objects.filter(conversation_id=cid).acount() == 4


async def test_continuing_a_lesson_conversation_keeps_its_context(connect, user, lesson):
    """A follow-up `message` without context reuses the conversation's context."""
    client = await connect("lesson", user)
    cid = (await client.generate("Write it", context={"lesson_id": lesson.pk}))[0][
        "conversation_id"
    ]
    frames = await client.generate("Shorter, please", conversation_id=cid)
    assert_generation(frames, kind="lesson", created=False)


async def test_refinement_revises_a_conversation_with_a_result(connect, user):
    """A `refinement` of a conversation with a result streams and completes a revised result."""
    client = await connect("course", user)
    cid = (await client.generate("Intro to Java"))[0]["conversation_id"]
    await client.send(
        type="refinement", conversation_id=cid, content="Add a module on loops", request_id="r"
    )
    frames = await client.until("complete", "cancelled", "error")
    assert_generation(frames, kind="course", created=False)
    assert all(f["request_id"] == "r" for f in frames)
    user_message = await AIMessage.objects.filter(conversation_id=cid, role="user").alast()
    assert user_message.content == "Add a module on loops"
    assert "Add a module on loops" in user_message.prompt


async def test_refinement_with_nothing_to_refine_is_refused(connect, user):
    """A `refinement` of a conversation without a completed result gets nothing_to_refine."""
    conversation = await AIConversation.objects.acreate(user=user, kind="course")
    client = await connect("course", user)
    error = await client.error(
        type="refinement", conversation_id=str(conversation.pk), content="Shorter"
    )
    assert error["code"] == "nothing_to_refine" and error["retryable"] is False
    assert error["conversation_id"] == str(conversation.pk)
    assert await AIMessage.objects.acount() == 0
    await client.assert_open()


@pytest.mark.parametrize(
    ("kind", "context", "fields"),
    [
        ("course", {"level": "expert"}, ["context.level"]),
        ("course", {"age_range": "eight to twelve"}, ["context.age_range"]),
        ("course", {"language": "english!"}, ["context.language"]),
        ("course", {"course_id": 0}, ["context.course_id"]),
        ("course", {"topic": "java"}, ["context.topic"]),
        ("lesson", {}, ["context.lesson_id"]),
        ("lesson", {"lesson_id": "one"}, ["context.lesson_id"]),
        ("quiz", {"lesson_id": 1, "question_count": 0}, ["context.question_count"]),
        ("quiz", {"lesson_id": 1, "question_count": 51}, ["context.question_count"]),
        ("quiz", {"lesson_id": 1, "question_types": ["essay"]}, ["context.question_types.0"]),
        ("quiz", {"lesson_id": 1, "question_types": []}, ["context.question_types"]),
        ("quiz", {"lesson_id": 1, "difficulty": "extreme"}, ["context.difficulty"]),
        ("assignment", {"assignment_id": 1, "question_count": 21}, ["context.question_count"]),
        (
            "assignment",
            {"assignment_id": 1, "question_types": ["true_false"]},
            ["context.question_types.0"],
        ),
        (
            "assignment",
            {"question_count": 0, "x": 1},
            ["context.assignment_id", "context.question_count", "context.x"],
        ),
    ],
)
async def test_invalid_context_is_invalid_message_naming_each_field(
    connect, user, kind, context, fields
):
    """A context out of range, of the wrong type or with unknown fields: details `context.*`."""
    client = await connect(kind, user)
    error = await client.error(type="message", content="Go", context=context)
    assert error["code"] == "invalid_message", error
    assert sorted(d["field"] for d in error["details"]) == fields
    assert await AIConversation.objects.acount() == 0
    await client.assert_open()


@pytest.mark.parametrize(
    ("kind", "key", "field"),
    [
        ("lesson", "lesson", "lesson_id"),
        ("quiz", "lesson", "lesson_id"),
        ("assignment", "assignment", "assignment_id"),
        ("course", "course", "course_id"),
    ],
)
async def test_another_users_row_is_not_found_like_a_missing_one(
    connect, user, others_rows, kind, key, field
):
    """A course, lesson or assignment of another user gets the same not_found as a missing id."""
    client = await connect(kind, user)
    theirs = await client.error(type="message", content="Go", context={field: others_rows[key].pk})
    missing = await client.error(type="message", content="Go", context={field: 999_999})
    assert theirs["code"] == missing["code"] == "not_found"
    assert theirs == missing
    assert await AIConversation.objects.acount() == 0
    await client.assert_open()


async def test_staff_may_generate_for_any_course(connect, staff_user, lesson):
    """Staff edit every course: a lesson of another owner is found for them."""
    client = await connect("lesson", staff_user)
    frames = await client.generate("Write it", context={"lesson_id": lesson.pk})
    assert frames[-1]["type"] == "complete", frames[-1]


async def test_conversation_of_another_kind_is_not_found(connect, user, lesson):
    """A conversation of the lesson endpoint cannot be continued on the course endpoint."""
    lesson_client = await connect("lesson", user)
    cid = (await lesson_client.generate("Write it", context={"lesson_id": lesson.pk}))[0][
        "conversation_id"
    ]
    course_client = await connect("course", user)
    error = await course_client.error(type="message", content="Go", conversation_id=cid)
    assert error["code"] == "not_found"


async def test_two_conversations_stream_at_once_on_one_socket(connect, user):
    """Two generations on one socket stream side by side, each complete and numbered from 0."""
    client = await connect("course", user)
    await client.send(type="message", content="Java", request_id="a")
    await client.send(type="message", content="Python", request_id="b")
    frames = []
    while sum(f["type"] == "complete" for f in frames) < 2:
        frames.append(await client.recv())
    for rid in ("a", "b"):
        mine = [f for f in frames if f["request_id"] == rid]
        indexes = [f["index"] for f in streaming(mine)]
        assert indexes == list(range(len(indexes)))
        assert [f["type"] for f in mine].count("complete") == 1
