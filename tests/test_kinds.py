"""Each kind's result rules: what a model's answer must satisfy to be sent as `complete`."""

import json

import pytest

from ai_chat.kinds import KINDS, get_kind
from ai_chat.kinds.base import ResultInvalid


def _quiz(questions, **context):
    kind = get_kind("quiz")
    ctx = kind.parse_context({"lesson_id": 1, **context})
    return kind.parse_result(json.dumps({"questions": questions}), ctx)


MC = {"type": "multiple_choice", "prompt": "2+2?", "options": ["3", "4"], "answer": "4"}
TF = {"type": "true_false", "prompt": "Sky is blue", "options": ["True", "False"], "answer": "True"}


def test_quiz_needs_exactly_the_asked_number_of_questions():
    """Four questions where five were asked is invalid."""
    with pytest.raises(ResultInvalid, match="expected exactly 5 questions, got 4"):
        _quiz([MC] * 4)
    assert len(_quiz([MC] * 5)["questions"]) == 5


def test_quiz_refuses_question_types_not_asked_for():
    """A true/false question in a multiple-choice-only quiz is invalid."""
    with pytest.raises(ResultInvalid, match="not requested"):
        _quiz([MC, TF], question_count=2)
    assert _quiz([MC, TF], question_count=2, question_types=["multiple_choice", "true_false"])


def test_multiple_choice_answer_must_be_one_of_its_options():
    """An answer that is not an option is invalid."""
    with pytest.raises(ResultInvalid, match="one of its options"):
        _quiz([{**MC, "answer": "5"}], question_count=1)


def test_true_false_options_are_fixed():
    """True/false questions have exactly the options True and False."""
    with pytest.raises(ResultInvalid, match="true/false options"):
        _quiz([{**TF, "options": ["Yes", "No"]}], question_count=1, question_types=["true_false"])


def test_repeated_question_types_in_the_context_are_refused():
    """A context naming a question type twice is the client's mistake."""
    from sockets.errors import InvalidMessage

    with pytest.raises(InvalidMessage) as error:
        get_kind("quiz").parse_context({"lesson_id": 1, "question_types": ["true_false"] * 2})
    assert error.value.details[0]["field"] == "context.question_types"


def test_assignment_rules_match_the_request():
    """An assignment batch is checked for count and types like a quiz."""
    kind = get_kind("assignment")
    ctx = kind.parse_context({"assignment_id": 1, "question_count": 1})
    essay = {
        "type": "essay",
        "prompt": "Why?",
        "points": 5,
        "rubric": [{"criterion": "c", "points": 5}],
    }
    with pytest.raises(ResultInvalid, match="not requested"):
        kind.parse_result(json.dumps({"questions": [essay]}), ctx)


def test_a_fenced_json_answer_is_accepted():
    """A model that wraps its JSON in a markdown fence still passes."""
    text = "```json\n" + json.dumps({"questions": [MC]}) + "\n```"
    kind = get_kind("quiz")
    assert kind.parse_result(text, kind.parse_context({"lesson_id": 1, "question_count": 1}))


EVERY_QUIZ_TYPE = {"question_count": 7, "question_types": ["multiple_choice", "true_false",
                   "short_answer"]}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "extra"), [(name, {}) for name in sorted(KINDS)] + [("quiz", EVERY_QUIZ_TYPE)]
)
def test_every_placeholder_is_a_valid_result(name, extra):
    """The offline provider's placeholder passes its kind's own validation (on the kind's
    declared example context)."""
    kind = get_kind(name)
    context = kind.parse_context({**kind.example_context, **extra})
    data = kind.placeholder(prompt="Request: Java", context=context.model_dump())
    text = json.dumps(data) if kind.structured else data["text"]
    assert kind.parse_result(text, context)


# --- the registry --------------------------------------------------------------------------


def test_every_kind_is_registered_from_its_own_module_in_declared_order():
    """Each kind is registered once, from its own module in a `kinds` package: `ai_chat/kinds/*`
    (autodiscovered) or the app that owns it (the import's, `imports/kinds/*`)."""
    from ai_chat.kinds import kind_names

    built_in = ["course", "lesson", "quiz", "assignment", "chat"]
    assert [name for name in kind_names() if name in built_in] == built_in
    assert sorted(kind_names()) == sorted(KINDS)
    owners = {
        "import_document": "imports",
        "import_pathways": "imports",
        "import_module": "imports",
    }
    assert {type(kind).__module__ for kind in KINDS.values()} == {
        f"{owners.get(name, 'ai_chat')}.kinds.{name}" for name in KINDS
    }


def test_a_kind_repeating_a_name_or_path_is_refused():
    from ai_chat.kinds.registry import register

    class Twin(type(get_kind("quiz"))):  # type: ignore[misc]
        pass

    with pytest.raises(ValueError, match="repeats the name or path"):
        register(Twin)
    assert type(get_kind("quiz")).__name__ == "QuizKind"


def test_a_kind_that_saves_must_declare_its_object_types():
    from ai_chat.kinds.base import Kind
    from ai_chat.kinds.registry import register

    class Undeclared(Kind):
        name = "undeclared"
        path = "/ws/ai/undeclared/"
        context_model = get_kind("lesson").context_model
        result_model = get_kind("lesson").result_model
        prompt_version = "x"

        def save(self, **kwargs):
            return []

    with pytest.raises(TypeError, match="declares its object types"):
        register(Undeclared)
    assert "undeclared" not in KINDS


def test_routing_serves_every_kind_at_its_path_with_the_kind_given():
    from config.routing import websocket_urlpatterns

    routed = {
        "/" + str(p.pattern): (p.callback.consumer_class.__name__, p.callback.consumer_initkwargs)
        for p in websocket_urlpatterns
    }
    for name, kind in KINDS.items():
        if not kind.path:  # a background kind (an import stage) has no endpoint
            assert all(initkwargs != {"kind": name} for _, initkwargs in routed.values())
            continue
        consumer = "ChatConsumer" if name == "chat" else "GenerationConsumer"
        assert routed[kind.path] == (consumer, {"kind": name})


@pytest.mark.django_db
def test_the_conversation_kind_is_checked_against_the_registry_not_the_database(user):
    """No database list of kinds: any name is storable, the registry is what refuses."""
    from django.core.exceptions import ValidationError

    from ai_chat.kinds.base import Target
    from ai_chat.models import AIConversation
    from ai_chat.services.conversations import conversation_create

    AIConversation.objects.create(user=user, kind="no-such-kind")  # no check constraint
    with pytest.raises(ValidationError):
        conversation_create(user=user, kind="no-such-kind", title="t", context={}, target=Target())
    with pytest.raises(ValidationError):
        AIConversation(user=user, kind="no-such-kind").full_clean()
