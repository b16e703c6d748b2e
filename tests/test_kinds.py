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


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_placeholder_is_a_valid_result(name):
    """The offline provider's placeholder passes its kind's own validation."""
    kind = get_kind(name)
    raw = {"course": {}, "lesson": {"lesson_id": 1}, "quiz": {"lesson_id": 1, "question_count": 7,
           "question_types": ["multiple_choice", "true_false", "short_answer"]},
           "assignment": {"assignment_id": 1}, "chat": {}}[name]  # fmt: skip
    context = kind.parse_context(raw)
    data = kind.placeholder(prompt="Request: Java", context=context.model_dump())
    text = json.dumps(data) if kind.structured else data["text"]
    assert kind.parse_result(text, context)
