"""What the question-batch kinds (quiz, assignment) share: count and types, asked and checked."""

from typing import Any

from pydantic import ValidationInfo, field_validator, model_validator

from ai_chat.kinds.base import ContextSchema, Schema


class BatchContext(ContextSchema):
    """A request for `question_count` questions of the `question_types` given."""

    question_count: int
    question_types: list[Any]

    @field_validator("question_types")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("question types must not repeat")
        return value


class BatchResult(Schema):
    """A batch of questions; validated against the request that asked for it."""

    questions: list[Any]

    @model_validator(mode="after")
    def _matches_request(self, info: ValidationInfo) -> "BatchResult":
        request = (info.context or {}).get("request")
        if isinstance(request, BatchContext):
            count = len(self.questions)
            if count != request.question_count:
                raise ValueError(
                    f"expected exactly {request.question_count} questions, got {count}"
                )
            wrong = {q.type for q in self.questions} - set(request.question_types)
            if wrong:
                raise ValueError(f"question types not requested: {sorted(wrong)}")
        return self
