"""Learning's client actions at their own layer: the user, the validated frame, the ack's
fields; refusals are Django's exceptions (mapped to the wire by realtime)."""

import pytest
from django.core.exceptions import PermissionDenied

from learning.actions import (
    ConfusionFrame,
    ProgressFrame,
    ResolveConfusionFrame,
    confusion_act,
    progress_act,
    resolve_confusion_act,
)
from lessons.models import Lesson

pytestmark = pytest.mark.django_db


def test_progress_of_a_learner_is_recorded_and_acknowledged(learner, lesson, sent):
    """The ack carries the stored progress."""
    with sent():
        fields = progress_act(
            user=learner, frame=ProgressFrame(type="progress", lesson_id=lesson.pk, percent=40)
        )
    assert fields["progress"]["percent"] == 40 and fields["progress"]["lesson_id"] == lesson.pk


def test_a_lesson_the_user_cannot_view_does_not_exist_for_them(other_user, lesson):
    """A stranger's progress or confusion names no lesson: `Lesson.DoesNotExist`."""
    with pytest.raises(Lesson.DoesNotExist, match="No such lesson"):
        progress_act(
            user=other_user, frame=ProgressFrame(type="progress", lesson_id=lesson.pk, percent=1)
        )
    with pytest.raises(Lesson.DoesNotExist):
        confusion_act(user=other_user, frame=ConfusionFrame(type="confusion", lesson_id=lesson.pk))


def test_a_learner_may_flag_but_not_resolve_a_confusion(learner, user, lesson, sent):
    """The learner flags it; resolving is the instructors'; the owner resolves it."""
    with sent():
        flagged = confusion_act(
            user=learner,
            frame=ConfusionFrame(type="confusion", lesson_id=lesson.pk, note="why?"),
        )["confusion"]
    resolve = ResolveConfusionFrame(type="resolve_confusion", confusion_id=flagged["id"])
    with pytest.raises(PermissionDenied):
        resolve_confusion_act(user=learner, frame=resolve)
    with sent():
        resolved = resolve_confusion_act(user=user, frame=resolve)["confusion"]
    assert resolved["resolved_by"] == user.pk
