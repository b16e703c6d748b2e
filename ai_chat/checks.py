"""System checks that refuse an unsafe production configuration (DEBUG off)."""

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def production_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = []
    # The development default, and the placeholder of .env.production.example.
    if settings.SECRET_KEY.startswith(("django-insecure-", "change-me")) or not settings.SECRET_KEY:
        errors.append(
            Error(
                "SECRET_KEY is the development default or the example's placeholder.",
                hint="Set SECRET_KEY to a long random string.",
                id="lectern.E001",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS contains '*'.",
                hint="List the host names the service answers to.",
                id="lectern.E002",
            )
        )
    if os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"):
        errors.append(
            Error(
                "FIREBASE_AUTH_EMULATOR_HOST is set: tokens would be accepted unsigned.",
                hint="Unset it outside development.",
                id="lectern.E003",
            )
        )
    return errors


@register()
def provider_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The chain must name providers we have, each with what it needs (Gemini its key)."""
    from ai_chat.agent.chain import chain_problems

    problems = chain_problems()
    if not settings.AI_PROVIDERS and settings.AI_PROVIDER not in ("gemini", "offline"):
        return [Error(problems[0] + ".", id="lectern.E004")]
    if not settings.AI_PROVIDERS and settings.AI_PROVIDER == "gemini" and problems:
        return [
            Error(
                "AI_PROVIDER is 'gemini' but GEMINI_API_KEY is not set.",
                hint="Set GEMINI_API_KEY, or AI_PROVIDER=offline for placeholder content.",
                id="lectern.E005",
            )
        ]
    return [
        Error(
            f"AI_PROVIDERS: {problem}.",
            hint="See the provider chain in README.md and .env.example.",
            id="lectern.E006",
        )
        for problem in problems
    ]


@register()
def grounding_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Research with Google Search is Gemini's: GEMINI_GROUNDING needs its key."""
    if not settings.GEMINI_GROUNDING or settings.GEMINI_API_KEY:
        return []
    return [
        Error(
            "GEMINI_GROUNDING is on but GEMINI_API_KEY is not set: research with Google Search "
            "needs Gemini.",
            hint="Set GEMINI_API_KEY, or GEMINI_GROUNDING=false.",
            id="lectern.E007",
        )
    ]
