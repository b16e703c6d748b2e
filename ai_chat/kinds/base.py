"""What every kind declares: name, endpoint, schemas, prompt, target, save mapping, example."""

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from pydantic import BaseModel, ConfigDict, ValidationError

from lessons.selectors import lesson_get_editable
from sockets.errors import InvalidMessage, NotFound

# The consumer class of an ordinary generation endpoint (`Kind.consumer`).
GENERATION_CONSUMER = "ai_chat.consumers.generation.GenerationConsumer"


class Schema(BaseModel):
    """Base of result schemas: unknown keys from the model are dropped, not fatal."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ContextSchema(BaseModel):
    """Base of context schemas: unknown fields are the client's mistake and are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


@dataclass(frozen=True)
class Target:
    """The domain row a request is about (any model), loaded for (and scoped to) its user.

    A conversation keeps it as a generic relation, so a kind about a new model needs no
    migration of the conversation store.
    """

    row: models.Model | None = None


@dataclass(frozen=True)
class SavedObject:
    object_type: str  # one of the kind's `object_types`
    instance: models.Model
    created: bool


@dataclass(frozen=True)
class Example:
    """The playground's example request; `context` None (and `missing` said) when the user
    has no row the kind could be about."""

    prompt: str
    context: dict[str, Any] | None
    missing: str = ""


# An example field's rows: the queryset of the rows this user may use, and what they are.
ExampleRows = tuple[Callable[..., Any], str]


class ResultInvalid(Exception):
    """The model's text is not a valid result; `errors` are told to the model on a retry."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def validation_details(error: ValidationError) -> list[dict[str, Any]]:
    """A pydantic error as the protocol's `details`: one entry per field at fault."""
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "(frame)", "message": e["msg"]}
        for e in error.errors(include_url=False, include_input=False)
    ]


class Kind:
    """A kind of generation. Subclasses declare the class attributes and the hooks below, and
    are registered with `@register` (`ai_chat.kinds.registry`)."""

    name: ClassVar[str]
    # The WebSocket path of its endpoint ("" for a kind only background work runs, such as an
    # import stage), and the consumer class serving it (dotted path).
    path: ClassVar[str]
    consumer: ClassVar[str] = GENERATION_CONSUMER
    # Where it appears among the endpoints (playground, lists).
    order: ClassVar[int] = 100
    context_model: ClassVar[type[ContextSchema]]
    result_model: ClassVar[type[Schema]]
    prompt_version: ClassVar[str]
    instructions: ClassVar[str]
    # Free-text kinds (the tutor chat) stream markdown; the others stream JSON.
    structured: ClassVar[bool] = True
    # Earlier user turns go to the model as their whole prompt (with the context it carried);
    # False: as the words typed, for a kind that sends its grounding again with each turn.
    history_from_prompt: ClassVar[bool] = True
    # The save mapping: the `type` of every row `save` writes (the `saved` frame's objects).
    object_types: ClassVar[tuple[str, ...]] = ()
    # The playground's example: a prompt and a valid context. Fields of `example_rows` are
    # replaced by the first row of that queryset (`queryset(user=...)`) the user has.
    example_prompt: ClassVar[str] = ""
    example_context: ClassVar[dict[str, Any]] = {}
    example_rows: ClassVar[dict[str, ExampleRows]] = {}

    def parse_context(self, raw: dict[str, Any] | None) -> ContextSchema:
        try:
            return self.context_model.model_validate(raw or {})
        except ValidationError as exc:
            details = [{**d, "field": f"context.{d['field']}"} for d in validation_details(exc)]
            raise InvalidMessage("The context is invalid.", details=details) from None

    def resolve_target(self, *, user: User | AnonymousUser, context: ContextSchema) -> Target:
        """Load the rows the context names; raise `NotFound` for missing or not the user's."""
        return Target()

    def result_schema(self) -> dict[str, Any] | None:
        """The result's JSON Schema; built once per model and shared, so never mutate it."""
        return _json_schema(self.result_model) if self.structured else None

    def parse_result(self, text: str, context: ContextSchema) -> dict[str, Any]:
        """Validate the model's whole text; return the result as plain data."""
        try:
            if not self.structured:
                result = self.result_model.model_validate({"text": text})
            else:
                result = self.result_model.model_validate_json(
                    _strip_fence(text), context={"request": context}
                )
        except ValidationError as exc:
            raise ResultInvalid(
                [f"{d['field']}: {d['message']}" for d in validation_details(exc)]
            ) from None
        return result.model_dump(mode="json")

    def build_prompt(self, *, content: str, context: ContextSchema, target: Target) -> str:
        """The user turn sent to the model for a new request."""
        return content

    def build_refinement(self, *, content: str, context: ContextSchema) -> str:
        return (
            "Revise your previous result following this instruction, and answer with the "
            f"complete revised result in the same format.\n\nInstruction: {content}"
        )

    def title_for(self, *, content: str, target: Target) -> str:
        return content.strip().splitlines()[0][:200] if content.strip() else self.name

    def placeholder(self, *, prompt: str, context: dict[str, Any]) -> dict[str, Any]:
        """A deterministic, valid result for the offline provider."""
        raise NotImplementedError

    def answer_cache_row(self, *, target: Target) -> models.Model | None:
        """The row whose answers are cached (`services.answer_cache`), if the kind caches."""
        return None

    def fallback_answer(self, *, target: Target) -> str | None:
        """The answer to give, marked as a fallback, when every provider is down (None: the
        turn fails with `ai_unavailable`). Built without a model, from the target's rows."""
        return None

    def save(
        self,
        *,
        user: User,
        data: dict[str, Any],
        context: ContextSchema,
        target: Target,
    ) -> list[SavedObject]:
        """Write the result through the domain services (the caller holds the transaction)."""
        raise NotImplementedError(f"{self.name} results are not saved")

    @property
    def saveable(self) -> bool:
        return type(self).save is not Kind.save

    def example(self, *, user: User) -> Example:
        """Called for the playground: the example context, on rows this user has."""
        context = dict(self.example_context)
        for field, (queryset, what) in self.example_rows.items():
            pk = queryset(user=user).order_by("pk").values_list("pk", flat=True).first()
            if pk is None:
                missing = f"No example context: you have no {what} yet."
                return Example(self.example_prompt, None, missing)
            context[field] = pk
        return Example(self.example_prompt, context)


def editable_lesson_target(*, user: User | AnonymousUser, lesson_id: int) -> Target:
    """The lesson the user may edit; `NotFound` alike for missing or not theirs."""
    lesson = lesson_get_editable(user=user, lesson_id=lesson_id)
    if lesson is None:
        raise NotFound("Lesson not found.")
    return Target(lesson)


def titled(prefix: str, row: Any, fallback: str) -> str:
    """A conversation title naming the row it is about (`Quiz: Loops`)."""
    return f"{prefix}: {row.title}"[:200] if row is not None else fallback


def _strip_fence(text: str) -> str:
    """Models sometimes wrap JSON in a markdown fence despite being asked not to."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        if stripped.rstrip().endswith("```"):
            stripped = stripped.rstrip()[:-3]
    return stripped


def context_json(context: BaseModel, *, exclude: set[str] | None = None) -> str:
    return json.dumps(context.model_dump(mode="json", exclude=exclude or set(), exclude_none=True))


@functools.cache
def _json_schema(model: type[Schema]) -> dict[str, Any]:
    # pydantic rebuilds the schema on every call (about 1 ms): a turn would pay it each time.
    return model.model_json_schema()
