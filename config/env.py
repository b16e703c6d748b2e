"""Typed readers for settings that come from the environment."""

import os
import re

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ImproperlyConfiguredEnv(ValueError):
    """An environment variable holds a value its setting cannot take."""


def env_str(name: str, default: str = "") -> str:
    """The variable's value; unset and empty both mean the default (as in `.env.example`)."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfiguredEnv(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name} must be a number, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# What each OpenAI-compatible entry of AI_PROVIDERS reads: AI_PROVIDER_<NAME>_<SUFFIX>.
PROVIDER_ENTRY_SUFFIXES = ("BASE_URL", "API_KEY", "MODEL", "STRUCTURED")
_ENTRY_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")


def env_provider_entries(names: list[str], builtin: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each entry of the chain that is not built in, read from `AI_PROVIDER_<NAME>_*`."""
    entries: dict[str, dict[str, str]] = {}
    for name in names:
        if not _ENTRY_NAME.fullmatch(name):
            raise ImproperlyConfiguredEnv(
                f"AI_PROVIDERS entry {name!r} must be lower-case letters, digits and underscores"
            )
        if name in builtin:
            continue
        entries[name] = {
            suffix.lower(): env_str(f"AI_PROVIDER_{name.upper()}_{suffix}")
            for suffix in PROVIDER_ENTRY_SUFFIXES
        }
    return entries
