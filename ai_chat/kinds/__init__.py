"""The registry of kinds: adding a kind is one module and one line here."""

from ai_chat.kinds.assignment import AssignmentKind
from ai_chat.kinds.base import Kind
from ai_chat.kinds.chat import ChatKind
from ai_chat.kinds.course import CourseKind
from ai_chat.kinds.lesson import LessonKind
from ai_chat.kinds.quiz import QuizKind

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (CourseKind(), LessonKind(), QuizKind(), AssignmentKind(), ChatKind())
}


def get_kind(name: str) -> Kind:
    return KINDS[name]
