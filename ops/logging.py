"""Log records as one JSON object per line, with a request reference and without secrets.

`LOGGING` (config/settings.py) puts `RequestRefFilter` and `RedactSecretsFilter` on every handler
and picks `JsonFormatter` or the plain format with `LOG_FORMAT`. The reference of the current
HTTP request or WebSocket connection lives in a context variable: asyncio tasks and
`sync_to_async` threads started while it is set carry it along.
"""

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

REDACTED = "[redacted]"

# Attributes given with `extra=` that the JSON line carries (others stay off the line).
EXTRA_FIELDS = (
    "ref",
    "request_id",
    "conversation_id",
    "message_id",
    "kind",
    "method",
    "path",
    "status",
    "duration_ms",
)

current_ref: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lectern_request_ref", default=None
)

# What a client may send as X-Request-ID: a short token with no room for log injection.
SAFE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def new_ref() -> str:
    return uuid.uuid4().hex


def safe_ref(value: str | None) -> str | None:
    """`value` when it can be used as a reference as it is, else None."""
    return value if value and SAFE_REF.match(value) else None


def bind_ref(value: str | None = None) -> str:
    """Set the reference of what this task does from now on (a WebSocket connection's, say)."""
    ref = safe_ref(value) or new_ref()
    current_ref.set(ref)
    return ref


class RequestRefFilter(logging.Filter):
    """Adds `ref` (the current request's reference, or "-") to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "ref", None):
            record.ref = current_ref.get() or "-"
        return True


# --- redaction ------------------------------------------------------------------------------

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host -> scheme://user:[redacted]@host
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:@/\s]*:)[^@/\s]+(@)"), rf"\1{REDACTED}\2"),
    # Authorization header values.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{REDACTED}"),
    # A JWT (Firebase ID tokens among them): three base64url segments, the first two JSON
    # objects ("ey" is how `{"` or `{ ` starts in base64url). Dotted names of modules, exception
    # classes and hosts (`autobahn.exception.PayloadExceededError`) do not start that way.
    (
        re.compile(
            r"(?<![A-Za-z0-9_.-])ey[A-Za-z0-9_-]{6,}\.ey[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*"
            r"(?![A-Za-z0-9_.-])"
        ),
        REDACTED,
    ),
    # Google API keys have a recognisable shape.
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), REDACTED),
    # ?key=..., &api_key=..., GEMINI_API_KEY=..., password=..., "token": "..."
    (
        re.compile(
            r"(?i)([?&;]?\b[\w-]*(?:key|secret|password|passwd|token)=)[^&\s\"',;]+",
        ),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(
            r"(?i)(\"[\w-]*(?:api_key|apikey|secret|password|passwd|token)\"\s*:\s*\")[^\"]+"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)(x-goog-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"), rf"\1{REDACTED}"),
)

# Shorter configured values are left alone: replacing "abc" everywhere would garble the logs,
# and the patterns above already catch passwords where they usually appear (URLs).
MIN_SECRET_LENGTH = 8


def configured_secrets() -> list[str]:
    """Secret values from settings: keys, and the passwords inside database and Redis URLs."""
    from django.conf import settings

    if not settings.configured:
        return []
    values: list[str] = [
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "GEMINI_API_KEY", ""),
        *getattr(settings, "SECRET_KEY_FALLBACKS", []),
    ]
    for database in getattr(settings, "DATABASES", {}).values():
        values.append(database.get("PASSWORD") or "")
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url:
        try:
            values.append(urlsplit(redis_url).password or "")
        except ValueError:
            pass
    found = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
    return sorted(found, key=len, reverse=True)  # a longer secret before one inside it


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` with secrets replaced by `[redacted]`."""
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Removes secrets from the message, its arguments, the traceback and the extra fields.

    The message is formatted here (`msg % args`) and stored with no arguments, so no handler
    or formatter ever sees the raw values.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            known = configured_secrets()
        except Exception:  # settings half-loaded: the patterns still apply
            known = []
        try:
            message = record.getMessage()
        except Exception:  # the arguments do not fit the format: keep the format only
            message = f"{record.msg} [arguments dropped: they do not match the format]"
        record.msg, record.args = redact(message, known), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, known)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, known)
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, redact(value, known))
        return True


# --- JSON -----------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, message, and known extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value not in (None, "", "-"):
                line[name] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)
