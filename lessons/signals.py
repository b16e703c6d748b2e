"""Signals of lessons.

`lessons` imports no app above it: apps that tell people about lessons (`learning` publishes
the realtime events) connect receivers here. `lesson_generation_changed` is sent once the
transaction that made the change has committed; `lesson_content_applied` inside it, so what its
receivers write (an import's document sources) commits with the content and is there when the
change is announced.
"""

from dataclasses import dataclass

from django.dispatch import Signal


@dataclass(slots=True)
class GenerationChange:
    """A lesson's generation status as a transition left it (the values at that moment).

    Until the commit sends it, the transition's caller may still name the job behind it
    (`job_id`): a claim happens before its job row exists.
    """

    lesson_id: int
    module_id: int | None
    course_id: int
    generation_status: str
    generation_error: str
    job_id: int | str | None


# Sent with `change` (a GenerationChange) after every committed generation status transition.
lesson_generation_changed = Signal()

# Sent with `lesson` inside the transaction that applies generated content (before the commit
# that announces it); a receiver's writes commit, or roll back, with the content.
lesson_content_applied = Signal()
