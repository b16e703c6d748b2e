"""A lesson's generation status, published to the rooms that follow it.

`lessons` sends `lesson_generation_changed` after each committed transition; this receiver
(connected in `LearningConfig.ready`) turns it into a `generation` `update` event to
`lesson:{id}` and `course:{id}`, the rooms `learning` owns.
"""

from dataclasses import asdict
from typing import Any

from lessons.signals import GenerationChange
from realtime.publish import publish_event


def lesson_generation_published(sender: Any, *, change: GenerationChange, **kwargs: Any) -> None:
    """Publish `generation` `update` with the change to the lesson's and its course's rooms."""
    payload = asdict(change)
    for room in (f"lesson:{change.lesson_id}", f"course:{change.course_id}"):
        publish_event(room=room, event="generation", action="update", payload=payload)
