"""JSON Schema helpers shared by the providers that send a result schema."""

from enum import StrEnum
from typing import Any


class Structured(StrEnum):
    """What an endpoint supports for structured output (a result schema)."""

    JSON_SCHEMA = "json_schema"  # the schema as `response_format`
    JSON_OBJECT = "json_object"  # JSON mode; the schema in the instructions
    NONE = "none"  # the schema in the instructions only


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every local `$ref` replaced by its definition and `$defs` dropped.

    Gemini accepts `$ref`, but not with sibling keywords, which pydantic emits (a referenced
    model with a field description); inlining sidesteps that. Recursive models are refused.
    """
    defs = schema.get("$defs", {})

    def resolve(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in seen:
                raise ValueError(f"recursive schema reference {ref!r} cannot be inlined")
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return {**resolve(defs[name], (*seen, name)), **resolve(siblings, seen)}
        return {k: resolve(v, seen) for k, v in node.items() if k != "$defs"}

    return resolve(schema, ())


# Each kind's result schema is one object built once, so its inlined form is kept by identity.
_inlined: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """`inline_refs(schema)`, computed once per schema object (do not modify the result)."""
    kept = _inlined.get(id(schema))
    if kept is None or kept[0] is not schema:
        kept = (schema, inline_refs(schema))
        if len(_inlined) < 256:
            _inlined[id(schema)] = kept
    return kept[1]
