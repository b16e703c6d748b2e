"""Progress and confusion over `/ws/events/`, with a learner and an instructor connected."""

import pytest
from asgiref.sync import sync_to_async

from learning.models import Confusion, Enrollment, LessonProgress

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def room_of(events, user, learner):
    """`ana` (owner) in her instructor room, `lea` on two devices in her user room."""

    async def make():
        teacher = await events(user)
        await teacher.subscribe(f"instructor:{user.pk}")
        phone, laptop = await events(learner), await events(learner)
        await laptop.subscribe(f"user:{learner.pk}")
        return teacher, phone, laptop

    return make


async def test_progress_syncs_the_learners_devices_and_reaches_the_instructor(
    room_of, learner, lesson
):
    """`progress` acks the sender; the other device and the instructor get `update`."""
    teacher, phone, laptop = await room_of()
    ack = await phone.request(
        type="progress", lesson_id=lesson.pk, percent=40, position="p7", request_id="pr"
    )
    assert (ack["type"], ack["of"], ack["request_id"]) == ("ack", "progress", "pr")
    assert ack["progress"]["percent"] == 40 and ack["progress"]["position"] == "p7"
    synced = await laptop.event()
    assert (synced["event"], synced["payload"]["percent"]) == ("progress", 40)
    seen = await teacher.event()
    assert (seen["event"], seen["action"]) == ("progress", "update")
    assert (seen["payload"]["learner_id"], seen["payload"]["learner_name"]) == (learner.pk, "Lea")
    assert await phone.nothing(0.2)


async def test_completing_a_lesson_updates_the_instructors_analytics(room_of, lesson):
    """Reaching 100 sets completed_at and sends the lesson's completion count."""
    teacher, phone, _laptop = await room_of()
    ack = await phone.request(type="progress", lesson_id=lesson.pk, percent=100, position=9)
    assert ack["progress"]["completed_at"] is not None and ack["progress"]["position"] == "9"
    frames = await teacher.events_until("analytics", "update")
    assert frames[-1]["payload"]["completions"] == 1


async def test_progress_from_a_stranger_is_not_found_and_from_staff_forbidden(
    events, other_user, staff_user, lesson
):
    """A lesson the user cannot see is `not_found`; staff see it but are not learners."""
    stranger, staff = await events(other_user), await events(staff_user)
    frame = {"type": "progress", "lesson_id": lesson.pk, "percent": 10}
    assert (await stranger.error(**frame))["code"] == "not_found"
    assert (await stranger.error(**{**frame, "lesson_id": 99999}))["code"] == "not_found"
    assert (await staff.error(**frame))["code"] == "forbidden"
    assert not await LessonProgress.objects.aexists()


async def test_a_confusion_alerts_the_instructor_who_resolves_it_and_the_learner_is_told(
    room_of, user, learner, lesson
):
    """Learner marks confusion -> instructor alert; instructor resolves -> learner told."""
    teacher, phone, laptop = await room_of()
    ack = await phone.request(
        type="confusion", lesson_id=lesson.pk, position="p3", note="What is a loop?"
    )
    confusion_id = ack["confusion"]["id"]
    alert = (await teacher.events_until("confusion", "create"))[-1]
    assert alert["payload"]["note"] == "What is a loop?"
    assert alert["payload"]["learner_name"] == "Lea"
    counts = (await teacher.events_until("analytics", "update"))[-1]["payload"]
    assert counts["open_confusions"] == 1
    assert (await laptop.event())["action"] == "create"  # the learner's other device

    await teacher.send(type="resolve_confusion", confusion_id=confusion_id)
    ack = await teacher.answer("ack")  # after the course_analytics events of the confusion
    assert ack["of"] == "resolve_confusion" and ack["confusion"]["resolved_by"] == user.pk
    told = await laptop.event()
    assert (told["event"], told["action"]) == ("confusion", "update")
    assert told["payload"]["id"] == confusion_id and told["payload"]["resolved_at"]
    confusion = await Confusion.objects.aget(pk=confusion_id)
    assert confusion.resolved_by_id == user.pk


async def test_resolving_is_refused_to_the_learner_and_hidden_from_others(
    events, learner, other_user, course, lesson, make_user
):
    """The learner gets `forbidden`; a stranger and a fellow learner get `not_found`."""
    lea = await events(learner)
    ack = await lea.request(type="confusion", lesson_id=lesson.pk, note="?")
    frame = {"type": "resolve_confusion", "confusion_id": ack["confusion"]["id"]}
    assert (await lea.error(**frame))["code"] == "forbidden"
    fellow = await sync_to_async(make_user)("finn")
    await Enrollment.objects.acreate(learner=fellow, course=course)
    for who in (other_user, fellow):
        assert (await (await events(who)).error(**frame))["code"] == "not_found"
    assert await Confusion.objects.filter(resolved_at__isnull=True).acount() == 1


async def test_a_confusion_in_a_course_one_is_not_in_is_not_found(events, other_user, lesson):
    """A stranger marking confusion on a lesson they cannot see gets `not_found`."""
    client = await events(other_user)
    error = await client.error(type="confusion", lesson_id=lesson.pk, note="?")
    assert error["code"] == "not_found"
