"""What learning declares on `/ws/events/` (in `LearningConfig.ready`): the `course:`,
`lesson:` and `instructor:` rooms with who may join them and their snapshots, the client
actions, the events learning publishes, and the viewer counts instructors hear."""

from typing import Any

from channels.db import database_sync_to_async

from courses.models import Course
from learning import actions
from learning.analytics import (
    aactive_now_publish,
    course_active_now,
    course_analytics,
    course_rooms_and_learners,
)
from learning.payloads import confusion_payload, progress_payload, question_payload
from learning.questions import (
    QUESTIONS_IN_SNAPSHOT,
    questions_of_lesson,
    questions_open_for_instructor,
)
from learning.selectors import (
    confusions_open_for_instructor,
    confusions_recent,
    course_can_view,
    course_is_instructor,
    lesson_counts,
    lesson_get_viewable,
    lesson_instructor_ids,
    lessons_taught_by,
    progress_recent,
)
from learning.wire import (
    ConfusionItem,
    CourseAnalytics,
    LessonCounts,
    LessonGeneration,
    LessonState,
    ProgressItem,
    QuestionItem,
    QuestionRemoved,
)
from lessons.models import Lesson
from lessons.selectors import lesson_get, lesson_list_for_course
from realtime import registry
from realtime.actions import service_action
from realtime.publish import apublish_event
from realtime.registry import EventKind, RoomKind, SnapshotPart
from realtime.rooms import Room


def lesson_state(lesson: Lesson) -> dict[str, Any]:
    return {
        "lesson_id": lesson.pk,
        "course_id": lesson.course_id,
        "title": lesson.title,
        "generation_status": lesson.generation_status,
    }


def instructor_analytics(*, user: Any) -> list[dict[str, Any]]:
    """Per-lesson counts of the courses the user teaches (viewers are added live)."""
    lessons = lessons_taught_by(user=user)
    counts = lesson_counts(lesson_ids=[pk for pk, _ in lessons])
    return [{"lesson_id": pk, "course_id": course_id, **counts[pk]} for pk, course_id in lessons]


async def analytics_with_viewers(rows: list[dict[str, Any]], presence: Any) -> list[dict]:
    """Each lesson's viewer count, from presence."""
    rooms = [f"lesson:{row['lesson_id']}" for row in rows]
    viewers = await presence.counts(rooms) if rooms else {}
    return [{**row, "viewers": viewers[name]} for row, name in zip(rows, rooms, strict=True)]


async def lesson_viewers_changed(*, room: Room, presence: Any) -> None:
    """Tell the course's instructors how many view the lesson now (`analytics` `update`)."""
    found = await database_sync_to_async(lesson_instructor_ids)(lesson_id=room.id)
    if found is None:
        return
    course_id, instructors = found
    viewers = (await presence.counts([room.name]))[room.name]
    payload = {"lesson_id": room.id, "course_id": course_id, "viewers": viewers}
    for user_id in instructors:
        await apublish_event(
            room=f"instructor:{user_id}", event="analytics", action="update", payload=payload
        )
    await aactive_now_publish(course_id=course_id, presence=presence)


async def course_viewers_changed(*, room: Room, presence: Any) -> None:
    """Tell the course's rooms how many of its learners are active now."""
    await aactive_now_publish(course_id=room.id, presence=presence)


def _course_analytics_part(*, user: Any, room_id: int) -> dict[str, Any] | None:
    """The course's analytics, for its instructors (null for its learners)."""
    course = Course.objects.filter(pk=room_id).first()
    if course is None or not course_is_instructor(user=user, course=course):
        return None
    return course_analytics(course=course)


async def _with_active_now(value: dict[str, Any] | None, presence: Any) -> dict | None:
    if value is None:
        return None
    rooms, learners = await database_sync_to_async(course_rooms_and_learners)(
        course_id=value["course_id"]
    )
    return {
        **value,
        "active_now": await course_active_now(rooms=rooms, learners=learners, presence=presence),
    }


def learning_declare() -> None:
    """Declare learning's rooms, snapshot parts, client actions and events."""
    _rooms_declare()
    _parts_declare()
    for frame, summary, run, key, item in (
        (
            actions.ProgressFrame,
            "Record your progress in a lesson (the furthest `percent` is kept).",
            actions.progress_act,
            "progress",
            ProgressItem,
        ),
        (
            actions.ConfusionFrame,
            "Flag a confusing point of a lesson to its instructors.",
            actions.confusion_act,
            "confusion",
            ConfusionItem,
        ),
        (
            actions.ResolveConfusionFrame,
            "Resolve a confusion of a course you teach.",
            actions.resolve_confusion_act,
            "confusion",
            ConfusionItem,
        ),
        (
            actions.AskQuestionFrame,
            "Ask a question on a lesson of a course you take; its instructors see it live.",
            actions.ask_question_act,
            "question",
            QuestionItem,
        ),
        (
            actions.AnswerQuestionFrame,
            "Answer a question of a course you teach; the asker is notified.",
            actions.answer_question_act,
            "question",
            QuestionItem,
        ),
    ):
        ack = {key: (item | None, None)}
        registry.client_action_register(
            service_action(frame=frame, summary=summary, run=run, ack=ack)
        )
    for event, action, payload, rooms in (
        ("progress", "update", ProgressItem, ()),
        ("confusion", "create", ConfusionItem, ()),
        ("confusion", "update", ConfusionItem, ()),
        ("analytics", "update", LessonCounts, ()),
        ("generation", "update", LessonGeneration, ("lesson", "course")),
        ("question", "create", QuestionItem, ("lesson", "user", "instructor")),
        ("question", "update", QuestionItem, ("lesson", "user", "instructor")),
        ("question", "delete", QuestionRemoved, ("lesson", "user", "instructor")),
        ("course_analytics", "update", CourseAnalytics, ("course", "instructor")),
    ):
        registry.event_register(EventKind(event=event, action=action, payload=payload, rooms=rooms))


def _rooms_declare() -> None:
    for kind in (
        RoomKind(
            name="course",
            who="the course's owner, staff, and users enrolled in it",
            may_join=lambda *, user, room_id: course_can_view(user=user, course_id=room_id),
            presence=True,
            on_presence=course_viewers_changed,
        ),
        RoomKind(
            name="lesson",
            who="the same as the lesson's course",
            may_join=lambda *, user, room_id: (
                lesson_get_viewable(user=user, lesson_id=room_id) is not None
            ),
            presence=True,
            on_presence=lesson_viewers_changed,
        ),
        RoomKind(
            name="instructor",
            who="that instructor only (they hear about the courses they teach)",
            may_join=lambda *, user, room_id: room_id == user.pk,
        ),
    ):
        registry.room_kind_register(kind)


def _parts_declare() -> None:
    parts = {
        "user": (
            SnapshotPart(
                key="progress",
                annotation=list[ProgressItem],
                description="Own progress, 50 latest updated.",
                read=lambda *, user, room_id: [
                    progress_payload(p) for p in progress_recent(learner=user)
                ],
            ),
            SnapshotPart(
                key="confusions",
                annotation=list[ConfusionItem],
                description="Own confusions, 50 newest.",
                read=lambda *, user, room_id: [
                    confusion_payload(c) for c in confusions_recent(learner=user)
                ],
            ),
        ),
        "course": (
            SnapshotPart(
                key="lessons",
                annotation=list[LessonState],
                read=lambda *, user, room_id: [
                    lesson_state(lesson) for lesson in lesson_list_for_course(course_id=room_id)
                ],
            ),
            SnapshotPart(
                key="analytics",
                annotation=CourseAnalytics | None,
                description="For the course's instructors; null for its learners.",
                read=_course_analytics_part,
                live=_with_active_now,
            ),
        ),
        "lesson": (
            SnapshotPart(key="lesson", annotation=LessonState | None, read=_lesson_part),
            SnapshotPart(
                key="questions",
                annotation=list[QuestionItem],
                description="The lesson's questions, 50 newest.",
                read=lambda *, user, room_id: [
                    question_payload(q)
                    for q in questions_of_lesson(lesson_id=room_id)[:QUESTIONS_IN_SNAPSHOT]
                ],
            ),
        ),
        "instructor": (
            SnapshotPart(
                key="confusions",
                annotation=list[ConfusionItem],
                description="Open ones of taught courses, 100 newest.",
                read=lambda *, user, room_id: [
                    confusion_payload(c) for c in confusions_open_for_instructor(user=user)
                ],
            ),
            SnapshotPart(
                key="analytics",
                annotation=list[LessonCounts],
                read=lambda *, user, room_id: instructor_analytics(user=user),
                live=analytics_with_viewers,
            ),
            SnapshotPart(
                key="questions",
                annotation=list[QuestionItem],
                description="Unanswered ones of taught courses, 100 newest.",
                read=lambda *, user, room_id: [
                    question_payload(q) for q in questions_open_for_instructor(user=user)
                ],
            ),
        ),
    }
    for room_kind, declared in parts.items():
        for part in declared:
            registry.snapshot_part_register(room_kind=room_kind, part=part)


def _lesson_part(*, user: Any, room_id: int) -> dict[str, Any] | None:
    lesson = lesson_get(lesson_id=room_id)
    return lesson_state(lesson) if lesson else None
