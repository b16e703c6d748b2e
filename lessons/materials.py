"""Reference material other apps add to a lesson's generation prompt.

`lessons` imports no app above it: an app whose rows a lesson is built from (an import's
repository documents) registers a provider in its `AppConfig.ready`, and the lesson kind puts
what the providers return into the prompt.
"""

from collections.abc import Callable

from lessons.models import Lesson

# (lesson) -> text for the prompt, or "" when the provider has nothing for this lesson.
MaterialProvider = Callable[[Lesson], str]

_providers: list[MaterialProvider] = []


def lesson_material_register(provider: MaterialProvider) -> None:
    """Add `provider` (once, however often asked)."""
    if provider not in _providers:
        _providers.append(provider)


def lesson_materials(lesson: Lesson) -> str:
    """Every provider's material for `lesson`, in registration order."""
    return "\n\n".join(text for provider in _providers if (text := provider(lesson)))
