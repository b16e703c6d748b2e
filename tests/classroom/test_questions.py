"""Live Q&A over `/ws/events/`: a learner asks on a lesson, the course's instructor sees it in
their room and answers, the learner is told (live and stored), and the lesson's room shows it
to everyone on the lesson page."""

import pytest
from asgiref.sync import sync_to_async

from learning.models import Answer, Enrollment, Question
from realtime.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_question_reaches_the_instructor_who_answers_and_the_learner_is_told(
    events, user, learner, lesson
):
    teacher = await events(user)
    await teacher.subscribe(f"instructor:{user.pk}")
    lea = await events(learner)
    await lea.subscribe(f"user:{learner.pk}")
    page = await events(learner)
    snapshot = (await page.subscribe(f"lesson:{lesson.pk}"))["snapshot"]
    assert snapshot["questions"] == []

    await lea.send(type="ask_question", lesson_id=lesson.pk, text="  Why int? ", request_id="q")
    ack = await lea.answer("ack")
    assert (ack["of"], ack["request_id"]) == ("ask_question", "q")
    question = ack["question"]
    assert (question["text"], question["answered_at"], question["answers"]) == (
        "Why int?",
        None,
        [],
    )
    alert = (await teacher.events_until("question", "create"))[-1]
    assert alert["payload"]["id"] == question["id"]
    assert (alert["payload"]["learner_name"], alert["payload"]["lesson_title"]) == (
        "Lea",
        "Variables",
    )
    on_page = (await page.events_until("question", "create"))[-1]
    assert on_page["room"] == f"lesson:{lesson.pk}"

    await teacher.send(type="answer_question", question_id=question["id"], text="Whole numbers.")
    answered = (await teacher.answer("ack"))["question"]
    assert answered["answered_at"] and answered["answers"][0]["text"] == "Whole numbers."
    assert answered["answers"][0]["author_id"] == user.pk
    frames = await lea.events_until("notification", "create")
    updates = [f for f in frames if (f["event"], f["action"]) == ("question", "update")]
    assert [(f["action"], f["payload"]["answers"][0]["text"]) for f in updates] == [
        ("update", "Whole numbers.")
    ]
    note = frames[-1]["payload"]
    assert note["data"] == {
        "kind": "question_answered",
        "question_id": question["id"],
        "lesson_id": lesson.pk,
        "course_id": lesson.course_id,
    }
    assert note["body"] == "Whole numbers." and note["read_at"] is None
    assert (await page.events_until("question", "update"))[-1]["payload"]["answered_at"]
    stored = await Notification.objects.aget(user=learner)
    assert stored.data["kind"] == "question_answered"

    again = await events(learner)
    listed = (await again.subscribe(f"lesson:{lesson.pk}"))["snapshot"]["questions"]
    assert [(q["id"], len(q["answers"])) for q in listed] == [(question["id"], 1)]
    answered_list = (await teacher.subscribe(f"instructor:{user.pk}"))["snapshot"]["questions"]
    assert answered_list == []  # the instructor room lists the unanswered ones


async def test_who_may_ask_and_answer(events, user, learner, other_user, lesson, course, make_user):
    """Strangers: `not_found`; a learner answering: `forbidden`; an empty text: invalid."""
    lea, bob = await events(learner), await events(other_user)
    assert (await bob.error(type="ask_question", lesson_id=lesson.pk, text="?"))["code"] == (
        "not_found"
    )
    blank = await lea.error(type="ask_question", lesson_id=lesson.pk, text="   ")
    assert blank["code"] == "invalid_message"
    too_long = await lea.error(type="ask_question", lesson_id=lesson.pk, text="x" * 2001)
    assert too_long["code"] == "invalid_message"
    ack = await lea.request(type="ask_question", lesson_id=lesson.pk, text="What?")
    frame = {"type": "answer_question", "question_id": ack["question"]["id"], "text": "No."}
    assert (await lea.error(**frame))["code"] == "forbidden"
    assert (await bob.error(**frame))["code"] == "not_found"
    helper = await sync_to_async(make_user)("ivy")
    await Enrollment.objects.acreate(learner=helper, course=course, role="instructor")
    ivy = await events(helper)
    assert (await ivy.request(**frame))["question"]["answers"][0]["author_name"] == "ivy"
    assert await Question.objects.acount() == 1 and await Answer.objects.acount() == 1


async def test_a_hidden_question_leaves_the_rooms_and_lists(events, user, learner, lesson):
    """Moderation: `question` `delete` to its rooms; the snapshot no longer lists it."""
    from learning.questions import question_hide, question_show

    lea = await events(learner)
    question_id = (await lea.request(type="ask_question", lesson_id=lesson.pk, text="Spam"))[
        "question"
    ]["id"]
    page = await events(user)
    await page.subscribe(f"lesson:{lesson.pk}")
    question = await Question.objects.select_related("lesson__course").aget(pk=question_id)
    await sync_to_async(question_hide)(question=question)
    gone = (await page.events_until("question", "delete"))[-1]["payload"]
    assert gone == {"id": question_id, "lesson_id": lesson.pk, "course_id": lesson.course_id}
    assert (await page.subscribe(f"lesson:{lesson.pk}"))["snapshot"]["questions"] == []
    question = await Question.objects.select_related("lesson__course").aget(pk=question_id)
    await sync_to_async(question_show)(question=question)
    back = (await page.events_until("question", "create"))[-1]["payload"]
    assert back["id"] == question_id


def test_the_admin_hides_and_deletes_questions_and_answers(
    client, staff_user, user, learner, lesson
):
    """Moderation in the admin: hide (listed no more), show again, delete an answer."""
    from django.urls import reverse

    from learning.questions import question_answer, question_ask

    question = question_ask(learner=learner, lesson=lesson, text="Is this spam?")
    question_answer(user=user, question_id=question.pk, text="Maybe.")
    client.force_login(staff_user)
    url = reverse("admin:learning_question_changelist")
    assert "Is this spam?" in client.get(url).content.decode()
    client.post(url, {"action": "hide", "_selected_action": [question.pk]})
    question.refresh_from_db()
    assert question.hidden_at is not None
    listed = client.get(f"/api/lessons/{lesson.pk}/questions").json()
    assert listed["count"] == 0
    client.post(url, {"action": "unhide", "_selected_action": [question.pk]})
    listed = client.get(f"/api/lessons/{lesson.pk}/questions").json()
    assert [len(q["answers"]) for q in listed["items"]] == [1]
    answer = Answer.objects.get()
    delete = reverse("admin:learning_answer_delete", args=[answer.pk])
    client.post(delete, {"post": "yes"})
    listed = client.get(f"/api/lessons/{lesson.pk}/questions").json()
    assert listed["items"][0]["answers"] == [] and not Answer.objects.exists()


def test_the_questions_api_is_scoped_and_paged(client, user, learner, other_user, lesson):
    from learning.questions import question_ask

    for n in range(3):
        question_ask(learner=learner, lesson=lesson, text=f"Q{n}")
    client.force_login(learner)
    page = client.get(f"/api/lessons/{lesson.pk}/questions", {"page_size": 2}).json()
    assert (page["count"], page["pages"], [q["text"] for q in page["items"]]) == (
        3,
        2,
        ["Q2", "Q1"],
    )
    client.force_login(other_user)
    hidden = client.get(f"/api/lessons/{lesson.pk}/questions")
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
