"""Learning services: who may enroll, record progress, mark and resolve confusion; and whom
each change is told to."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from courses.models import Course
from learning.models import Confusion, Enrollment, LessonProgress
from learning.selectors import (
    confusion_get_visible,
    course_instructor_ids,
    course_viewable_by,
    lesson_get_viewable,
)
from learning.services import (
    confusion_create,
    confusion_resolve,
    enrollment_create,
    enrollment_delete,
    progress_record,
)

pytestmark = pytest.mark.django_db


def test_owner_enrolls_anyone_in_any_role(user, course, other_user):
    """The course's owner may enroll another user, as an instructor too."""
    enrollment = enrollment_create(actor=user, course=course, learner=other_user, role="instructor")
    assert (enrollment.learner, enrollment.role) == (other_user, "instructor")


def test_a_user_enrolls_themselves_only_in_a_published_course(course, other_user):
    """Self-enrollment works as a learner in a published course, and nowhere else."""
    with pytest.raises(PermissionDenied):
        enrollment_create(actor=other_user, course=course)
    course.status = Course.Status.PUBLISHED
    course.save()
    assert enrollment_create(actor=other_user, course=course).role == "learner"
    with pytest.raises(PermissionDenied):
        enrollment_create(actor=other_user, course=course, role="instructor")


def test_a_learner_may_not_enroll_someone_else(course, learner, other_user):
    """An enrolled learner cannot enroll another user."""
    with pytest.raises(PermissionDenied):
        enrollment_create(actor=learner, course=course, learner=other_user)


def test_enrolling_twice_keeps_one_enrollment(user, course, other_user):
    """A second enrollment of the same user changes the role at most."""
    enrollment_create(actor=user, course=course, learner=other_user)
    enrollment_create(actor=user, course=course, learner=other_user, role="instructor")
    assert list(Enrollment.objects.filter(learner=other_user).values_list("role", flat=True)) == [
        "instructor"
    ]


def test_unenrolling_is_for_the_learner_the_owner_or_staff(user, course, learner, make_user):
    """A stranger cannot remove an enrollment; the learner can."""
    enrollment = Enrollment.objects.get(learner=learner)
    with pytest.raises(PermissionDenied):
        enrollment_delete(actor=make_user("eve"), enrollment=enrollment)
    enrollment_delete(actor=learner, enrollment=enrollment)
    assert not Enrollment.objects.exists()


def test_viewable_courses_are_owned_enrolled_or_all_for_staff(
    user, course, learner, other_user, staff_user
):
    """Owner, enrolled learner and staff see the course; another user does not."""
    for who in (user, learner, staff_user):
        assert list(course_viewable_by(user=who)) == [course]
    assert list(course_viewable_by(user=other_user)) == []
    assert lesson_get_viewable(user=other_user, lesson_id=course.lessons.first().pk) is None


def test_progress_keeps_the_furthest_percent_and_the_latest_position(learner, lesson):
    """A device behind another does not lower the percent; the position follows the latest."""
    progress_record(learner=learner, lesson=lesson, percent=60, position="p3")
    progress = progress_record(learner=learner, lesson=lesson, percent=20, position=12)
    assert (progress.percent, progress.position, progress.completed_at) == (60, "12", None)


def test_reaching_100_percent_completes_the_lesson_once(learner, lesson):
    """completed_at is set when percent reaches 100 and kept afterwards."""
    first = progress_record(learner=learner, lesson=lesson, percent=100).completed_at
    again = progress_record(learner=learner, lesson=lesson, percent=100).completed_at
    assert first is not None and again == first


def test_progress_goes_to_the_learner_and_the_course_instructors(
    user, learner, lesson, course, make_user, sent
):
    """`progress` `update` reaches user:{learner} and every instructor's room, nobody else."""
    co = make_user("cole")
    Enrollment.objects.create(learner=co, course=course, role="instructor")
    with sent():
        progress_record(learner=learner, lesson=lesson, percent=40, position="intro")
    assert {room for room, *_ in sent} == {
        f"user:{learner.pk}",
        f"instructor:{user.pk}",
        f"instructor:{co.pk}",
    }
    ((event, action, payload),) = sent.to(f"user:{learner.pk}")
    assert (event, action) == ("progress", "update")
    assert payload["percent"] == 40 and payload["lesson_id"] == lesson.pk
    assert sent.to(f"instructor:{user.pk}")[0][2]["learner_name"] == "Lea"


def test_a_completion_updates_the_instructors_analytics(user, learner, lesson, sent):
    """Completing a lesson sends the lesson's new completion count to the instructor."""
    with sent():
        progress_record(learner=learner, lesson=lesson, percent=100)
    analytics = [p for e, _a, p in sent.to(f"instructor:{user.pk}") if e == "analytics"]
    assert analytics == [
        {"lesson_id": lesson.pk, "course_id": lesson.course_id, "completions": 1,
         "open_confusions": 0}
    ]  # fmt: skip


def test_progress_outside_the_course_is_refused(other_user, staff_user, lesson):
    """Someone not enrolled, staff included, cannot record progress."""
    for who in (other_user, staff_user):
        with pytest.raises(PermissionDenied):
            progress_record(learner=who, lesson=lesson, percent=10)
    assert not LessonProgress.objects.exists()


def test_percent_out_of_range_is_refused(learner, lesson):
    """A percent over 100 is a validation error."""
    with pytest.raises(ValidationError):
        progress_record(learner=learner, lesson=lesson, percent=101)


def test_confusion_alerts_the_instructors_and_syncs_the_learner(user, learner, lesson, sent):
    """`confusion` `create` reaches the instructor's room and the learner's own room."""
    with sent():
        confusion = confusion_create(learner=learner, lesson=lesson, position="p2", note="why?")
    (create,) = [p for e, a, p in sent.to(f"instructor:{user.pk}") if e == "confusion"]
    assert create["id"] == confusion.pk and create["note"] == "why?"
    assert [(e, a) for e, a, _ in sent.to(f"user:{learner.pk}")] == [("confusion", "create")]
    (counts,) = [p for e, a, p in sent.to(f"instructor:{user.pk}") if e == "analytics"]
    assert counts["open_confusions"] == 1


def test_confusion_outside_the_course_is_refused(other_user, lesson):
    """A user not in the course cannot mark confusion in it."""
    with pytest.raises(PermissionDenied):
        confusion_create(learner=other_user, lesson=lesson, note="?")


def test_the_owner_resolves_and_the_learner_is_told(user, learner, lesson, sent):
    """Resolving records who and when, and sends `confusion` `update` to the learner."""
    confusion = confusion_create(learner=learner, lesson=lesson, note="?")
    with sent():
        resolved = confusion_resolve(user=user, confusion_id=confusion.pk)
    assert resolved.resolved_by == user and resolved.resolved_at is not None
    (event, action, payload), told = sent.to(f"user:{learner.pk}")
    assert (event, action, payload["resolved_by"]) == ("confusion", "update", user.pk)
    assert told[:2] == ("notification", "create")
    assert told[2]["data"]["kind"] == "confusion_resolved"


def test_resolving_twice_sends_nothing_more(user, learner, lesson, sent):
    """A second resolve changes nothing and publishes nothing."""
    confusion = confusion_create(learner=learner, lesson=lesson)
    confusion_resolve(user=user, confusion_id=confusion.pk)
    with sent():
        confusion_resolve(user=user, confusion_id=confusion.pk)
    assert sent == []


def test_staff_and_enrolled_instructors_may_resolve(learner, lesson, course, staff_user, make_user):
    """Staff and an instructor-role enrollment resolve; they see the confusion."""
    co = make_user("cole")
    Enrollment.objects.create(learner=co, course=course, role="instructor")
    for who in (staff_user, co):
        confusion = confusion_create(learner=learner, lesson=lesson)
        assert confusion_resolve(user=who, confusion_id=confusion.pk).resolved_by == who


def test_the_learner_may_not_resolve_their_own_confusion(learner, lesson):
    """The learner sees their confusion but resolving it is refused."""
    confusion = confusion_create(learner=learner, lesson=lesson)
    with pytest.raises(PermissionDenied):
        confusion_resolve(user=learner, confusion_id=confusion.pk)


def test_others_are_told_the_confusion_does_not_exist(learner, lesson, course, make_user):
    """A stranger or a fellow learner gets DoesNotExist, like for a missing id."""
    confusion = confusion_create(learner=learner, lesson=lesson)
    fellow = make_user("finn")
    Enrollment.objects.create(learner=fellow, course=course)
    for who in (make_user("eve"), fellow):
        assert confusion_get_visible(user=who, confusion_id=confusion.pk) is None
        with pytest.raises(Confusion.DoesNotExist):
            confusion_resolve(user=who, confusion_id=confusion.pk)
    with pytest.raises(Confusion.DoesNotExist):
        confusion_resolve(user=learner, confusion_id=confusion.pk + 1000)


def test_instructors_are_the_owner_then_instructor_enrollments(user, course, learner, make_user):
    """Learners are not instructors; instructor enrollments are, after the owner."""
    co = make_user("cole")
    Enrollment.objects.create(learner=co, course=course, role="instructor")
    assert course_instructor_ids(course=course) == [user.pk, co.pk]
