"""Signals of courses, sent once the transaction that made the change has committed.

`courses` imports no app above it: `learning` tells a course's learners (stored notifications)
by connecting a receiver to `course_changed`.
"""

from functools import partial

from django.db import transaction
from django.dispatch import Signal

# Sent with `course_id` and `published` (True when the change published the course; False for
# any other change of its fields or outline) after the change committed.
course_changed = Signal()


def course_changed_on_commit(*, course_id: int, published: bool = False) -> None:
    """Send `course_changed` once the current transaction commits (now, outside one)."""
    send = partial(course_changed.send, sender=None, course_id=course_id, published=published)
    transaction.on_commit(send, robust=True)
