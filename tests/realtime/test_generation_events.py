"""A user's generations are announced on their `user:{id}` room of /ws/events/."""

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application
from tests.consumers.conftest import ORIGIN, open_client

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_generation_is_announced_when_it_starts_and_ends(user, settings):
    """`generation` create (streaming) then update (completed) reach the user's events socket."""
    settings.AI_PROVIDER = "offline"
    settings.OFFLINE_CHUNK_DELAY_MS = 0
    events = WebsocketCommunicator(application, "/ws/events/", headers=ORIGIN)
    events.scope["user"] = user
    assert (await events.connect())[0]
    assert (await events.receive_json_from())["type"] == "auth_success"
    await events.send_json_to({"type": "subscribe", "room": f"user:{user.pk}"})
    assert (await events.receive_json_from())["type"] == "subscribed"

    course = await open_client("course", user)
    await course.send(type="message", content="Java")
    done = (await course.until("complete"))[-1]

    seen = []
    while len(seen) < 2:
        frame = await events.receive_json_from(timeout=5)
        if frame["type"] == "event" and frame["event"] == "generation":
            seen.append(
                (frame["action"], frame["payload"]["status"], frame["payload"]["message_id"])
            )
    assert seen == [
        ("create", "streaming", done["message_id"]),
        ("update", "completed", done["message_id"]),
    ]
    await course.close()
    await events.disconnect()


async def test_saving_a_lesson_tells_its_room_that_the_generation_completed(
    events, user, lesson, settings
):
    """A lesson saved from /ws/ai/lesson-content/ reaches a `lesson:{id}` subscriber as
    `generation` `update` with status `completed`."""
    settings.AI_PROVIDER = "offline"
    settings.OFFLINE_CHUNK_DELAY_MS = 0
    follower = await events(user)
    await follower.subscribe(f"lesson:{lesson.pk}")
    writer = await open_client("lesson", user)
    await writer.send(type="message", content="Variables", context={"lesson_id": lesson.pk})
    done = (await writer.until("complete"))[-1]
    await writer.send(type="save", conversation_id=done["conversation_id"])
    assert (await writer.until("saved"))[-1]["objects"] == [{"type": "lesson", "id": lesson.pk}]
    [event] = [f for f in await follower.events_until("generation", "update")][-1:]
    assert event["room"] == f"lesson:{lesson.pk}"
    assert event["payload"] == {
        "lesson_id": lesson.pk,
        "module_id": lesson.module_id,
        "course_id": lesson.course_id,
        "generation_status": "completed",
        "generation_error": "",
        "job_id": None,
    }
    await writer.close()
    await follower.close()
