"""The registry of kinds: a kind registers itself where it is declared, like `admin.register`.

`ai_chat.kinds` imports every module of its package, so a new kind is one module with
`@register` on its class. Everything that names kinds (routing, the playground, metric labels,
the AsyncAPI document, the frame literals) reads them from here.
"""

from typing import Any

from ai_chat.kinds.base import Kind

KINDS: dict[str, Kind] = {}


def register[K: type[Kind]](cls: K) -> K:
    """Class decorator: add one instance of the kind to the registry."""
    kind = cls()
    for attribute in ("name", "path", "context_model", "result_model", "prompt_version"):
        if not hasattr(kind, attribute):
            raise TypeError(f"{cls.__name__} declares no {attribute!r}")
    for other in KINDS.values():
        same_path = bool(kind.path) and other.path == kind.path
        if type(other) is not cls and (other.name == kind.name or same_path):
            raise ValueError(f"{cls.__name__} repeats the name or path of {type(other).__name__}")
    if kind.saveable != bool(kind.object_types):
        raise TypeError(f"{cls.__name__}: a kind that saves declares its object types")
    KINDS[kind.name] = kind
    return cls


def get_kind(name: str) -> Kind:
    return KINDS[name]


def kind_names() -> tuple[str, ...]:
    """The registered kinds, in their declared order."""
    return tuple(sorted(KINDS, key=lambda name: (KINDS[name].order, name)))


def socket_kind_names() -> tuple[str, ...]:
    """The kinds served on a WebSocket endpoint (a kind with an empty `path` runs only in
    background work, such as an import's stages), in their declared order."""
    return tuple(name for name in kind_names() if KINDS[name].path)


def object_types() -> tuple[str, ...]:
    """Every object type a kind's save may write, each once, in declaration order."""
    return tuple(dict.fromkeys(t for name in kind_names() for t in KINDS[name].object_types))


def kind_literal() -> Any:
    """`Literal["course", ...]` of the registered kinds (for pydantic models of frames)."""
    from typing import Literal

    return Literal[kind_names()]  # type: ignore[valid-type]


def object_type_literal() -> Any:
    """`Literal[...]` of every object type a save may write."""
    from typing import Literal

    return Literal[object_types()]  # type: ignore[valid-type]
