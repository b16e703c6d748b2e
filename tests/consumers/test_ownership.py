"""Every frame that names a conversation refuses another user's with `not_found`."""

import uuid

import pytest

from ai_chat.models import AIMessage, AIResultSave
from tests.consumers.conftest import FINAL_TYPES

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = {
    "message": lambda cid, mid: {"type": "message", "content": "Mine now", "conversation_id": cid},
    "refinement": lambda cid, mid: {
        "type": "refinement",
        "content": "Mine",
        "conversation_id": cid,
    },
    "save": lambda cid, mid: {"type": "save", "conversation_id": cid},
    "save-message": lambda cid, mid: {"type": "save", "conversation_id": cid, "message_id": mid},
    "cancel": lambda cid, mid: {"type": "cancel", "conversation_id": cid},
    "resume": lambda cid, mid: {"type": "resume", "conversation_id": cid},
    "resume-message": lambda cid, mid: {
        "type": "resume",
        "conversation_id": cid,
        "message_id": mid,
    },
    "history": lambda cid, mid: {"type": "history", "conversation_id": cid},
    "history-before": lambda cid, mid: {"type": "history", "conversation_id": cid, "before": mid},
}


def scrubbed(error):
    """An error frame without the echoed ids, which differ between the two requests."""
    return {k: v for k, v in error.items() if k not in ("conversation_id", "request_id")}


@pytest.mark.parametrize("name", list(FRAMES))
async def test_another_users_conversation_is_not_found(connect, user, other_user, name):
    """A frame naming another user's conversation gets not_found, as for a missing one."""
    owner = await connect("course", user)
    result = await owner.generate()
    cid, mid = result[0]["conversation_id"], result[1]["message_id"]
    intruder = await connect("course", other_user)
    theirs = await intruder.error(**FRAMES[name](cid, mid), request_id="x")
    assert (theirs["code"], theirs["request_id"]) == ("not_found", "x")
    missing = await intruder.error(**FRAMES[name](str(uuid.uuid4()), mid))
    assert scrubbed(theirs) == scrubbed(missing)
    assert await AIMessage.objects.filter(conversation_id=cid).acount() == 2
    assert await AIResultSave.objects.acount() == 0
    assert await intruder.nothing(0.1)
    await intruder.assert_open()


async def test_another_user_cannot_cancel_a_running_generation(
    connect, user, other_user, slow_offline
):
    """`cancel` by another user gets not_found, and the owner's generation completes."""
    owner = await connect("course", user)
    await owner.send(type="message", content="Intro to Java")
    head = await owner.until("streaming")
    intruder = await connect("course", other_user)
    error = await intruder.error(type="cancel", conversation_id=head[0]["conversation_id"])
    assert error["code"] == "not_found"
    assert (await owner.until(*FINAL_TYPES))[-1]["type"] == "complete"


async def test_another_user_cannot_follow_a_running_generation(
    connect, user, other_user, slow_offline
):
    """`resume` of another user's running generation gets not_found and no frames of it."""
    owner = await connect("course", user)
    await owner.send(type="message", content="Intro to Java")
    head = await owner.until("streaming")
    intruder = await connect("course", other_user)
    error = await intruder.error(type="resume", conversation_id=head[0]["conversation_id"])
    assert error["code"] == "not_found"
    await owner.until(*FINAL_TYPES)
    assert await intruder.nothing(0.2)


async def test_a_message_id_of_another_conversation_is_not_found(connect, user, other_user):
    """Pairing one's own conversation with another user's message id gets not_found."""
    theirs = await connect("course", other_user)
    their_message = (await theirs.generate())[1]["message_id"]
    mine = await connect("course", user)
    cid = (await mine.generate())[0]["conversation_id"]
    for frame in (
        {"type": "save", "conversation_id": cid, "message_id": their_message},
        {"type": "resume", "conversation_id": cid, "message_id": their_message},
        {"type": "history", "conversation_id": cid, "before": their_message},
    ):
        assert (await mine.error(**frame))["code"] == "not_found", frame
    assert await AIResultSave.objects.acount() == 0
