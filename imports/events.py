"""The `import` event: each progress step of a stage, to the course's room and the importer's.

Declared on `/ws/events/` in `ImportsConfig.ready`; published after the step's transaction
commits (`publish_event` waits for it), so a page never hears of a step that rolled back.
"""

from typing import Literal

from pydantic import BaseModel, Field

from imports.models import StageTask
from realtime import registry
from realtime.publish import publish_event


class ImportProgress(BaseModel):
    """How one stage of a course's repository import stands."""

    course_id: int
    stage: Literal["stage1", "stage2", "stage3", "stage4"]
    status: Literal["PENDING", "STARTED", "SUCCESS", "FAILURE", "RETRY"]
    progress: int = Field(ge=0, le=100)
    current_step: str = Field(description="A sentence: 'Cloning repository...'.")


def import_events_declare() -> None:
    """Declare `import` `update` (to `course:` and `user:` rooms)."""
    registry.event_register(
        registry.EventKind(
            event="import", action="update", payload=ImportProgress, rooms=("course", "user")
        )
    )


def stage_event_publish(*, task: StageTask, course_id: int, user_id: int) -> None:
    """Tell the course's room and the importer's `user:` room how the stage stands."""
    payload = ImportProgress(
        course_id=course_id,
        stage=f"stage{task.stage}",  # type: ignore[arg-type]
        status=task.status,  # type: ignore[arg-type]
        progress=task.progress,
        current_step=task.current_step,
    ).model_dump()
    for room in (f"course:{course_id}", f"user:{user_id}"):
        publish_event(room=room, event="import", action="update", payload=payload)
