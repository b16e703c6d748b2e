"""Kind `quiz`: a batch of quiz questions for a lesson."""

from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser, User
from pydantic import Field, model_validator

from ai_chat.kinds.base import (
    ContextSchema,
    Kind,
    SavedObject,
    Schema,
    Target,
    editable_lesson_target,
    titled,
)
from ai_chat.kinds.batch import BatchContext, BatchResult
from ai_chat.kinds.registry import register
from assessments.services import quiz_add_questions
from lessons.selectors import lesson_editable_by

QuizType = Literal["multiple_choice", "true_false", "short_answer"]
TRUE_FALSE_OPTIONS = ["True", "False"]


class QuizContext(BatchContext):
    lesson_id: int = Field(ge=1)
    question_count: int = Field(default=5, ge=1, le=50)
    question_types: list[QuizType] = Field(
        default_factory=lambda: list[QuizType](["multiple_choice"]), min_length=1
    )
    difficulty: Literal["easy", "medium", "hard"] | None = None


class QuizQuestionResult(Schema):
    type: QuizType
    prompt: str = Field(min_length=1, max_length=2000)
    options: list[str] = Field(default_factory=list, max_length=10)
    answer: str = Field(min_length=1, max_length=2000)
    explanation: str = Field(default="", max_length=2000)
    points: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _answer_fits_type(self) -> "QuizQuestionResult":
        if self.type == "multiple_choice":
            if len(self.options) < 2:
                raise ValueError("a multiple-choice question needs at least 2 options")
            if self.answer not in self.options:
                raise ValueError("a multiple-choice answer must be one of its options")
        elif self.type == "true_false":
            if self.options != TRUE_FALSE_OPTIONS:
                raise ValueError('true/false options must be ["True", "False"]')
            if self.answer not in TRUE_FALSE_OPTIONS:
                raise ValueError('a true/false answer must be "True" or "False"')
        return self


class QuizResult(BatchResult):
    questions: list[QuizQuestionResult] = Field(min_length=1, max_length=50)


@register
class QuizKind(Kind):
    name = "quiz"
    path = "/ws/ai/quiz-questions/"
    order = 30
    object_types = ("quiz", "quiz_question")
    example_prompt = "Check the key ideas of this lesson"
    example_context = {
        "lesson_id": 1,
        "question_count": 5,
        "question_types": ["multiple_choice", "true_false"],
    }
    example_rows = {"lesson_id": (lesson_editable_by, "lesson you may edit")}
    context_model = QuizContext
    result_model = QuizResult
    prompt_version = "quiz-2026-11-22"
    # The count and the types are checked after generation; stating them plainly in the prompt
    # is what keeps the re-ask rate low.
    instructions = (
        "You write quiz questions that check understanding of one lesson. Answer only with a "
        "JSON object matching the given schema: no prose, no markdown fence. Give exactly the "
        "number of questions asked, only of the types asked. A multiple-choice question has 3 "
        "to 5 options and its answer is the exact text of one option; a true/false question has "
        'options ["True", "False"] and answer "True" or "False"; a short-answer question has no '
        "options. Explain each answer in one or two sentences."
    )

    def resolve_target(self, *, user: User | AnonymousUser, context: ContextSchema) -> Target:
        assert isinstance(context, QuizContext)
        return editable_lesson_target(user=user, lesson_id=context.lesson_id)

    def build_prompt(self, *, content: str, context: ContextSchema, target: Target) -> str:
        assert isinstance(context, QuizContext)
        lesson: Any = target.row
        return "\n".join(
            [
                f"Request: {content}",
                f"Number of questions: exactly {context.question_count}",
                f"Allowed question types: {', '.join(context.question_types)}",
                f"Difficulty: {context.difficulty or 'mixed'}",
                f"Lesson: {lesson.title}",
                f"Lesson description: {lesson.description}",
                f"Lesson content:\n{lesson.content[:20000] or '(not written yet)'}",
            ]
        )

    def title_for(self, *, content: str, target: Target) -> str:
        fallback = super().title_for(content=content, target=target)
        return titled("Quiz", target.row, fallback)

    def placeholder(self, *, prompt: str, context: dict[str, Any]) -> dict[str, Any]:
        count = context.get("question_count", 5)
        types = context.get("question_types") or ["multiple_choice"]
        questions = []
        for n in range(count):
            kind = types[n % len(types)]
            if kind == "multiple_choice":
                options = [f"Option {c}" for c in "ABCD"]
                answer = options[n % 4]
            elif kind == "true_false":
                options, answer = list(TRUE_FALSE_OPTIONS), TRUE_FALSE_OPTIONS[n % 2]
            else:
                options, answer = [], f"Placeholder answer {n + 1}"
            questions.append(
                {
                    "type": kind,
                    "prompt": f"[Placeholder] Question {n + 1}?",
                    "options": options,
                    "answer": answer,
                    "explanation": "Offline placeholder; no model was involved.",
                    "points": 1,
                }
            )
        return {"questions": questions}

    def save(
        self,
        *,
        user: User,
        data: dict[str, Any],
        context: ContextSchema,
        target: Target,
    ) -> list[SavedObject]:
        quiz, created, rows = quiz_add_questions(lesson=target.row, questions=data["questions"])  # type: ignore[arg-type]
        return [SavedObject("quiz", quiz, created)] + [
            SavedObject("quiz_question", row, True) for row in rows
        ]
