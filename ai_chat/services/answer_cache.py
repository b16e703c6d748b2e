"""The tutor's answer cache: the same first question on the same lesson content is answered
from here, marked `cached`, at no token cost (the quota is not touched; the message is stored).

One entry per lesson in Django's cache (Redis in production, so every process shares it),
holding at most TUTOR_ANSWER_CACHE_SIZE answers (the oldest go first) for one version of the
lesson: a change to its title, content, outline, key terms or to the tutor's prompt is a new
version, and the first answer stored under it drops every older one. Only the first question
of a conversation is looked up or stored: a follow-up ("and why?") means something else in
every conversation.
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_PUNCTUATION = re.compile(r"[\s?!.,;:]+")


@dataclass(frozen=True)
class CacheSlot:
    """Where a question's answer is (or will be) kept."""

    lesson_id: int
    version: str
    question: str

    @property
    def key(self) -> str:
        return f"lectern:tutor-answers:{self.lesson_id}"


def enabled() -> bool:
    return int(settings.TUTOR_ANSWER_CACHE_SIZE) > 0


def lesson_version(lesson: Any, *, prompt_version: str) -> str:
    """A digest of what the tutor's answer on `lesson` depends on."""
    parts = [
        prompt_version,
        lesson.updated_at.isoformat() if lesson.updated_at else "",
        lesson.title,
        lesson.content,
        json.dumps(lesson.outline, sort_keys=True, default=str),
        json.dumps(lesson.key_terms, sort_keys=True, default=str),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def question_key(question: str) -> str:
    """The question as compared: case, spacing and punctuation do not count."""
    normal = _PUNCTUATION.sub(" ", question.casefold()).strip()
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


def slot_for(lesson: Any, *, question: str, prompt_version: str) -> CacheSlot | None:
    if not enabled():
        return None
    return CacheSlot(
        lesson_id=lesson.pk,
        version=lesson_version(lesson, prompt_version=prompt_version),
        question=question_key(question),
    )


def answer_get(slot: CacheSlot) -> str | None:
    """The cached answer, or None (also when the cache itself fails: it is only a cache)."""
    try:
        entry = cache.get(slot.key)
    except Exception:
        logger.warning("answer cache read failed", exc_info=True)
        return None
    if not isinstance(entry, dict) or entry.get("version") != slot.version:
        return None
    answer = entry.get("answers", {}).get(slot.question)
    return answer if isinstance(answer, str) else None


async def answer_store(slot: CacheSlot, answer: str) -> None:
    """Keep `answer`, dropping the oldest beyond the bound and any older version's."""
    try:
        entry = await cache.aget(slot.key)
        answers: dict[str, str] = {}
        if isinstance(entry, dict) and entry.get("version") == slot.version:
            answers = dict(entry.get("answers", {}))
        answers.pop(slot.question, None)
        answers[slot.question] = answer
        while len(answers) > int(settings.TUTOR_ANSWER_CACHE_SIZE):
            answers.pop(next(iter(answers)))
        await cache.aset(
            slot.key,
            {"version": slot.version, "answers": answers},
            timeout=int(settings.TUTOR_ANSWER_CACHE_SECONDS),
        )
    except Exception:  # a lost cache entry costs one model call later, nothing else
        logger.warning("answer cache write failed", exc_info=True)
