"""The client frames learning adds to `/ws/events/`: `progress`, `confusion`,
`resolve_confusion`, `ask_question` and `answer_question`, each served by a learning service and
answered `ack`.

They run in a worker thread with the signed-in user; a lesson the user may not view is
`not_found`, and the services' own refusals map to the wire in realtime's consumer.
"""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictInt

from learning.models import MAX_NOTE_LENGTH, MAX_POSITION_LENGTH, MAX_QUESTION_LENGTH
from learning.payloads import confusion_payload, progress_payload, question_payload
from learning.questions import question_answer, question_ask
from learning.selectors import lesson_get_viewable
from learning.services import confusion_create, confusion_resolve, progress_record
from lessons.models import Lesson
from realtime.protocol import ClientFrame, Id


def _position_text(value: Any) -> Any:
    """A position is a string (an anchor, a timestamp) or an integer (a page, a second)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("position must be a string or an integer")
    return value


# Stored and sent back as text.
Position = Annotated[str, BeforeValidator(_position_text), Field(max_length=MAX_POSITION_LENGTH)]


class ProgressFrame(ClientFrame):
    type: Literal["progress"]
    lesson_id: Id
    percent: StrictInt = Field(ge=0, le=100)
    position: Position = ""


class ConfusionFrame(ClientFrame):
    type: Literal["confusion"]
    lesson_id: Id
    position: Position = ""
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class ResolveConfusionFrame(ClientFrame):
    type: Literal["resolve_confusion"]
    confusion_id: Id


class AskQuestionFrame(ClientFrame):
    type: Literal["ask_question"]
    lesson_id: Id
    text: str = Field(min_length=1, max_length=MAX_QUESTION_LENGTH)


class AnswerQuestionFrame(ClientFrame):
    type: Literal["answer_question"]
    question_id: Id
    text: str = Field(min_length=1, max_length=MAX_QUESTION_LENGTH)


def _viewable_lesson(*, user: Any, lesson_id: int) -> Lesson:
    lesson = lesson_get_viewable(user=user, lesson_id=lesson_id)
    if lesson is None:
        raise Lesson.DoesNotExist("No such lesson.")
    return lesson


def progress_act(*, user: Any, frame: ProgressFrame) -> dict[str, Any]:
    """Record the user's progress in a lesson they may view."""
    lesson = _viewable_lesson(user=user, lesson_id=frame.lesson_id)
    progress = progress_record(
        learner=user, lesson=lesson, percent=frame.percent, position=frame.position
    )
    return {"progress": progress_payload(progress)}


def confusion_act(*, user: Any, frame: ConfusionFrame) -> dict[str, Any]:
    """Flag a confusing point of a lesson the user may view."""
    lesson = _viewable_lesson(user=user, lesson_id=frame.lesson_id)
    confusion = confusion_create(
        learner=user, lesson=lesson, position=frame.position, note=frame.note
    )
    return {"confusion": confusion_payload(confusion)}


def resolve_confusion_act(*, user: Any, frame: ResolveConfusionFrame) -> dict[str, Any]:
    """Resolve a confusion of a course the user teaches."""
    confusion = confusion_resolve(user=user, confusion_id=frame.confusion_id)
    return {"confusion": confusion_payload(confusion)}


def ask_question_act(*, user: Any, frame: AskQuestionFrame) -> dict[str, Any]:
    """Ask a question on a lesson the user may view."""
    lesson = _viewable_lesson(user=user, lesson_id=frame.lesson_id)
    return {
        "question": question_payload(question_ask(learner=user, lesson=lesson, text=frame.text))
    }


def answer_question_act(*, user: Any, frame: AnswerQuestionFrame) -> dict[str, Any]:
    """Answer a question of a course the user teaches."""
    question = question_answer(user=user, question_id=frame.question_id, text=frame.text)
    return {"question": question_payload(question)}
