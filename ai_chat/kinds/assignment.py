"""Kind `assignment`: a batch of assignment questions with rubrics."""

from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser, User
from pydantic import Field

from ai_chat.kinds.base import ContextSchema, Kind, SavedObject, Schema, Target, titled
from ai_chat.kinds.batch import BatchContext, BatchResult
from ai_chat.kinds.registry import register
from assessments.selectors import assignment_editable_by, assignment_get_editable
from assessments.services import assignment_add_questions
from sockets.errors import NotFound

AssignmentType = Literal["short_answer", "essay", "coding", "project"]


class AssignmentContext(BatchContext):
    assignment_id: int = Field(ge=1)
    question_count: int = Field(default=3, ge=1, le=20)
    question_types: list[AssignmentType] = Field(
        default_factory=lambda: list[AssignmentType](["short_answer"]), min_length=1
    )


class RubricItem(Schema):
    criterion: str = Field(min_length=1, max_length=500)
    points: int = Field(ge=0, le=1000)


class AssignmentQuestionResult(Schema):
    type: AssignmentType
    prompt: str = Field(min_length=1, max_length=5000)
    points: int = Field(ge=1, le=1000)
    rubric: list[RubricItem] = Field(min_length=1, max_length=20)
    sample_answer: str = Field(default="", max_length=20000)


class AssignmentResult(BatchResult):
    questions: list[AssignmentQuestionResult] = Field(min_length=1, max_length=20)


@register
class AssignmentKind(Kind):
    name = "assignment"
    path = "/ws/ai/assignment-questions/"
    order = 40
    object_types = ("assignment_question",)
    example_prompt = "Practice questions for this assignment"
    example_context = {
        "assignment_id": 1,
        "question_count": 3,
        "question_types": ["short_answer"],
    }
    example_rows = {"assignment_id": (assignment_editable_by, "assignment you may edit")}
    context_model = AssignmentContext
    result_model = AssignmentResult
    prompt_version = "assignment-2026-11-22"
    instructions = (
        "You write assignment questions for a course. Answer only with a JSON object matching "
        "the given schema: no prose, no markdown fence. Give exactly the number of questions "
        "asked, only of the types asked. Each has a rubric whose criteria a grader can apply "
        "without guessing, and a sample answer that would earn full marks."
    )

    def resolve_target(self, *, user: User | AnonymousUser, context: ContextSchema) -> Target:
        assert isinstance(context, AssignmentContext)
        assignment = assignment_get_editable(user=user, assignment_id=context.assignment_id)
        if assignment is None:
            raise NotFound("Assignment not found.")
        return Target(assignment)

    def build_prompt(self, *, content: str, context: ContextSchema, target: Target) -> str:
        assert isinstance(context, AssignmentContext)
        assignment: Any = target.row
        lesson: Any = assignment.lesson
        return "\n".join(
            [
                f"Request: {content}",
                f"Number of questions: exactly {context.question_count}",
                f"Allowed question types: {', '.join(context.question_types)}",
                f"Course: {assignment.course.title} (level {assignment.course.level})",
                f"Assignment: {assignment.title}",
                f"Instructions: {assignment.instructions or 'none'}",
                f"Lesson: {lesson.title if lesson else 'the whole course'}",
            ]
        )

    def title_for(self, *, content: str, target: Target) -> str:
        fallback = super().title_for(content=content, target=target)
        return titled("Assignment", target.row, fallback)

    def placeholder(self, *, prompt: str, context: dict[str, Any]) -> dict[str, Any]:
        count = context.get("question_count", 3)
        types = context.get("question_types") or ["short_answer"]
        return {
            "questions": [
                {
                    "type": types[n % len(types)],
                    "prompt": f"[Placeholder] Assignment question {n + 1}.",
                    "points": 10,
                    "rubric": [
                        {"criterion": "Answers the question", "points": 6},
                        {"criterion": "Explains the reasoning", "points": 4},
                    ],
                    "sample_answer": "Offline placeholder; no model was involved.",
                }
                for n in range(count)
            ]
        }

    def save(
        self,
        *,
        user: User,
        data: dict[str, Any],
        context: ContextSchema,
        target: Target,
    ) -> list[SavedObject]:
        rows = assignment_add_questions(assignment=target.row, questions=data["questions"])  # type: ignore[arg-type]
        return [SavedObject("assignment_question", row, True) for row in rows]
