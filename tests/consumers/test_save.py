"""`save` (PROTOCOL.md, "What save writes"): domain rows, provenance, once, all or nothing."""

import asyncio
import re

import pytest

from ai_chat.kinds import course as course_kind
from ai_chat.models import AIConversation, AIGeneratedObject, AIMessage, AIResultSave
from assessments.models import AssignmentQuestion, Quiz, QuizQuestion
from courses.models import Course, Module
from lessons.models import Lesson

pytestmark = pytest.mark.django_db(transaction=True)


async def generated(client, content="Intro to Java", **fields):
    frames = await client.generate(content, **fields)
    assert frames[-1]["type"] == "complete", frames[-1]
    return frames[-1]


async def save(client, cid, **fields):
    answer = await client.request(type="save", conversation_id=cid, **fields)
    assert answer["type"] == "saved", answer
    return answer


async def row_counts():
    models = (Course, Module, Lesson, Quiz, QuizQuestion, AssignmentQuestion)
    models += (AIResultSave, AIGeneratedObject)
    return {model.__name__: await model.objects.acount() for model in models}


async def assert_provenance(saved):
    """One AIResultSave for the message, one AIGeneratedObject per object, in order."""
    record = await AIResultSave.objects.aget(message_id=saved["message_id"])
    written = [
        {"type": obj.object_type, "id": obj.object_id}
        async for obj in AIGeneratedObject.objects.filter(save_record=record)
        .select_related("content_type")
        .order_by("position")
    ]
    assert written == saved["objects"]
    assert await AIGeneratedObject.objects.filter(message_id=saved["message_id"]).acount() == len(
        saved["objects"]
    )


async def test_course_save_writes_course_modules_and_pending_lessons(connect, user):
    """Saving a course writes the Course, its Modules and one pending Lesson per outlined one."""
    client = await connect("course", user)
    complete = await generated(client, context={"age_range": "8-12", "level": "intermediate"})
    saved = await save(client, complete["conversation_id"], request_id="s")
    data = complete["data"]
    assert saved["created"] is True and saved["request_id"] == "s"
    assert saved["message_id"] == complete["message_id"]
    types = [o["type"] for o in saved["objects"]]
    lesson_count = sum(len(m["lessons"]) for m in data["modules"])
    assert types == ["course"] + ["module"] * len(data["modules"]) + ["lesson"] * lesson_count
    course = await Course.objects.aget(pk=saved["objects"][0]["id"])
    assert (course.owner_id, course.title, course.level) == (user.pk, data["title"], "intermediate")
    assert course.objectives == data["objectives"]
    modules = [m async for m in Module.objects.filter(course=course).order_by("position")]
    assert [m.title for m in modules] == [m["title"] for m in data["modules"]]
    lessons = [lesson async for lesson in Lesson.objects.filter(course=course)]
    assert len(lessons) == lesson_count
    assert {lesson.generation_status for lesson in lessons} == {"pending"}
    await assert_provenance(saved)


async def test_course_save_with_course_id_updates_that_course(connect, user, course):
    """With `course_id` in the context, saving revises that course instead of adding one."""
    client = await connect("course", user)
    complete = await generated(client, context={"course_id": course.pk})
    saved = await save(client, complete["conversation_id"])
    assert saved["objects"][0] == {"type": "course", "id": course.pk}
    assert await Course.objects.acount() == 1
    await course.arefresh_from_db()
    assert course.title == complete["data"]["title"]
    flags = {
        obj.created
        async for obj in AIGeneratedObject.objects.filter(message_id=saved["message_id"])
    }
    assert flags == {False}


async def test_lesson_save_writes_its_fields_and_completes_it(connect, user, lesson):
    """Saving a lesson writes its fields and marks its generation completed."""
    client = await connect("lesson", user)
    complete = await generated(client, context={"lesson_id": lesson.pk})
    saved = await save(client, complete["conversation_id"])
    assert saved["objects"] == [{"type": "lesson", "id": lesson.pk}]
    await lesson.arefresh_from_db()
    data = complete["data"]
    assert lesson.generation_status == "completed"
    assert (lesson.title, lesson.content, lesson.estimated_minutes) == (
        data["title"],
        data["content"],
        data["estimated_minutes"],
    )
    assert lesson.outline == data["outline"] and lesson.key_terms == data["key_terms"]
    await assert_provenance(saved)


async def test_quiz_save_writes_the_quiz_and_its_questions(connect, user, lesson):
    """Saving quiz questions creates the lesson's Quiz and one QuizQuestion per question."""
    client = await connect("quiz", user)
    context = {"lesson_id": lesson.pk, "question_count": 3, "question_types": ["short_answer"]}
    complete = await generated(client, context=context)
    saved = await save(client, complete["conversation_id"])
    quiz = await Quiz.objects.aget(lesson=lesson)
    questions = [q async for q in QuizQuestion.objects.filter(quiz=quiz).order_by("position")]
    assert saved["objects"] == [{"type": "quiz", "id": quiz.pk}] + [
        {"type": "quiz_question", "id": q.pk} for q in questions
    ]
    assert [q.prompt for q in questions] == [q["prompt"] for q in complete["data"]["questions"]]
    assert {q.type for q in questions} == {"short_answer"}
    await assert_provenance(saved)


async def test_quiz_save_appends_to_an_existing_quiz(connect, user, lesson):
    """A second quiz result saved on the same lesson adds questions to its one Quiz."""
    client = await connect("quiz", user)
    context = {"lesson_id": lesson.pk, "question_count": 2}
    first = await generated(client, context=context)
    await save(client, first["conversation_id"])
    second = await generated(client, conversation_id=first["conversation_id"])
    saved = await save(client, first["conversation_id"])
    assert saved["message_id"] == second["message_id"]
    assert await Quiz.objects.acount() == 1
    assert await QuizQuestion.objects.acount() == 4
    positions = [q.position async for q in QuizQuestion.objects.order_by("position")]
    assert positions == [0, 1, 2, 3]


async def test_assignment_save_writes_one_question_per_question(connect, user, assignment):
    """Saving assignment questions adds one AssignmentQuestion per question to the assignment."""
    client = await connect("assignment", user)
    context = {"assignment_id": assignment.pk, "question_count": 2, "question_types": ["essay"]}
    complete = await generated(client, context=context)
    saved = await save(client, complete["conversation_id"])
    questions = [
        q
        async for q in AssignmentQuestion.objects.filter(assignment=assignment).order_by("position")
    ]
    assert saved["objects"] == [{"type": "assignment_question", "id": q.pk} for q in questions]
    assert [q.rubric for q in questions] == [q["rubric"] for q in complete["data"]["questions"]]
    await assert_provenance(saved)


async def test_saving_twice_writes_nothing_new(connect, user):
    """A second `save` of the same result answers the same objects with `created` false."""
    client = await connect("course", user)
    complete = await generated(client)
    first = await save(client, complete["conversation_id"])
    counts = await row_counts()
    again = await save(client, complete["conversation_id"], message_id=complete["message_id"])
    assert again["created"] is False
    assert again["objects"] == first["objects"]
    assert await row_counts() == counts


async def test_two_saves_at_once_write_one_set_of_rows(connect, user):
    """Two sockets saving the same result at the same moment write one set of rows."""
    one = await connect("course", user)
    two = await connect("course", user)
    complete = await generated(one)
    cid = complete["conversation_id"]
    answers = await asyncio.gather(save(one, cid), save(two, cid))
    assert sorted(a["created"] for a in answers) == [False, True]
    assert answers[0]["objects"] == answers[1]["objects"]
    assert await Course.objects.acount() == 1
    assert await AIResultSave.objects.acount() == 1
    assert await AIGeneratedObject.objects.acount() == len(answers[0]["objects"])


async def test_save_saves_the_latest_result_by_default(connect, user):
    """Without `message_id`, `save` takes the conversation's latest completed result."""
    client = await connect("course", user)
    first = await generated(client, "Java")
    second = await generated(client, "Python", conversation_id=first["conversation_id"])
    saved = await save(client, first["conversation_id"])
    assert saved["message_id"] == second["message_id"]
    earlier = await save(client, first["conversation_id"], message_id=first["message_id"])
    assert earlier["message_id"] == first["message_id"] and earlier["created"] is True
    assert await Course.objects.acount() == 2


async def test_save_with_nothing_to_save_is_refused(connect, user):
    """A conversation without a completed result: `save` gets nothing_to_save, writes nothing."""
    conversation = await AIConversation.objects.acreate(user=user, kind="course")
    await AIMessage.objects.acreate(
        conversation=conversation, role="assistant", status="failed", content="{"
    )
    client = await connect("course", user)
    error = await client.error(type="save", conversation_id=str(conversation.pk))
    assert (error["code"], error["retryable"]) == ("nothing_to_save", False)
    assert error["conversation_id"] == str(conversation.pk)
    assert await AIResultSave.objects.acount() == 0
    await client.assert_open()


async def test_save_of_a_message_without_a_result_is_nothing_to_save(connect, user):
    """Naming a failed assistant message gets nothing_to_save; an unknown one not_found."""
    conversation = await AIConversation.objects.acreate(user=user, kind="course")
    failed = await AIMessage.objects.acreate(
        conversation=conversation, role="assistant", status="failed"
    )
    client = await connect("course", user)
    cid = str(conversation.pk)
    error = await client.error(type="save", conversation_id=cid, message_id=str(failed.pk))
    assert error["code"] == "nothing_to_save"
    error = await client.error(
        type="save", conversation_id=cid, message_id="00000000-0000-4000-8000-000000000000"
    )
    assert error["code"] == "not_found"


async def test_failure_mid_save_is_internal_error_and_writes_nothing(
    connect, user, monkeypatch, caplog
):
    """A domain write failing after some rows are written: internal_error, and no rows at all."""
    real = course_kind.course_create_from_outline

    def write_then_fail(**kwargs):
        written = real(**kwargs)
        assert Lesson.objects.filter(course=written.course).exists()  # rows were written
        raise RuntimeError("disk on fire")

    client = await connect("course", user)
    complete = await generated(client)
    before = await row_counts()
    monkeypatch.setattr(course_kind, "course_create_from_outline", write_then_fail)
    error = await client.error(type="save", conversation_id=complete["conversation_id"])
    assert (error["code"], error["retryable"]) == ("internal_error", True)
    assert "disk on fire" not in error["message"]
    reference = re.search(r"reference ([0-9a-f]{12})", error["message"]).group(1)
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records), (
        "the internal error's reference is not in the logs"
    )
    assert await row_counts() == before
    monkeypatch.setattr(course_kind, "course_create_from_outline", real)
    saved = await save(client, complete["conversation_id"])
    assert saved["created"] is True
    await client.assert_open()


async def test_failure_recording_provenance_rolls_back_the_domain_rows(
    connect, user, lesson, monkeypatch
):
    """If the provenance rows cannot be written, the quiz rows are not kept either."""
    client = await connect("quiz", user)
    complete = await generated(client, context={"lesson_id": lesson.pk, "question_count": 2})
    before = await row_counts()

    def refuse(*args, **kwargs):
        raise RuntimeError("provenance refused")

    monkeypatch.setattr(AIGeneratedObject.objects, "bulk_create", refuse)
    error = await client.error(type="save", conversation_id=complete["conversation_id"])
    assert error["code"] == "internal_error"
    assert await row_counts() == before


async def test_a_refined_offline_course_saves_the_users_words_not_the_prompt(connect, user):
    """Refining on the offline provider keeps the course about what the user asked for: no
    wrapped refinement prompt reaches the result, the saved rows or the conversation."""
    client = await connect("course", user)
    first = await generated(client, content="Java for kids")
    cid = first["conversation_id"]
    await client.send(type="refinement", conversation_id=cid, content="make it shorter")
    refined = (await client.until("complete", "error"))[-1]
    assert refined["type"] == "complete", refined
    assert refined["data"] == first["data"]  # no model here to revise it: the result stands
    await save(client, cid)

    course = await Course.objects.aget()
    titles = [course.title, course.description]
    titles += [m.title async for m in Module.objects.filter(course=course)]
    titles += [lesson.title async for lesson in Lesson.objects.filter(course=course)]
    titles.append((await AIConversation.objects.aget(pk=cid)).title)
    assert course.title == "[Placeholder] Java for kids"
    assert not [t for t in titles if "Revise" in t or "Instruction" in t or "shorter" in t]
