"""Kinds of generation. Each module of this package declares one and registers it with
`@register` (`ai_chat.kinds.registry`); importing the package imports them all."""

import importlib
import pkgutil

from ai_chat.kinds.base import Kind
from ai_chat.kinds.registry import KINDS, get_kind, kind_names, object_types, socket_kind_names

__all__ = ["KINDS", "Kind", "get_kind", "kind_names", "object_types", "socket_kind_names"]


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_discover()
