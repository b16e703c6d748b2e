"""My conversations over the socket: listed per endpoint kind and last activity first, renamed,
archived (read only, out of the default list) and unarchived; nobody else's is reachable."""

import pytest
from channels.testing import WebsocketCommunicator

from ai_chat.models import AIConversation
from config.asgi import application
from tests.consumers.conftest import ORIGIN, Client

pytestmark = pytest.mark.django_db(transaction=True)


async def _ask(client, content, **fields):
    frames = await client.generate(content, **fields)
    assert frames[-1]["type"] == "complete", frames[-1]
    return frames[0]["conversation_id"]


async def test_list_is_per_kind_newest_first_and_paged(connect, user, contexts):
    chat = await connect("chat", user)
    first = await _ask(chat, "What is a loop?")
    second = await _ask(chat, "What is a variable?")
    course = await connect("course", user)
    await _ask(course, "Intro to Java", context=contexts["course"])
    # Continuing the first conversation makes it the most recent again.
    await _ask(chat, "And a while loop?", conversation_id=first)

    listed = await chat.request(type="conversations", request_id="l")
    assert listed["type"] == "conversations" and listed["request_id"] == "l"
    assert [c["id"] for c in listed["items"]] == [first, second]  # the course one is not here
    assert listed["count"] == 2 and listed["pages"] == 1 and listed["archived"] is False
    top = listed["items"][0]
    assert top["kind"] == "chat" and top["title"] == "What is a loop?"
    assert top["status"] == "active" and top["generating"] is False
    assert top["last_activity"] >= listed["items"][1]["last_activity"]

    page2 = await chat.request(type="conversations", page=2, page_size=1)
    assert [c["id"] for c in page2["items"]] == [second] and page2["pages"] == 2
    past = await chat.request(type="conversations", page=9, page_size=1)
    assert past["items"] == [] and past["count"] == 2


async def test_rename_and_archive_then_a_new_turn_is_refused(connect, user):
    client = await connect("chat", user)
    cid = await _ask(client, "What is a loop?")
    renamed = await client.request(
        type="update_conversation", conversation_id=cid, title="  Loops   in Java ", request_id="r"
    )
    assert renamed["type"] == "conversation_updated" and renamed["request_id"] == "r"
    assert renamed["conversation"]["title"] == "Loops in Java"
    before = renamed["conversation"]["last_activity"]

    archived = await client.request(type="update_conversation", conversation_id=cid, archived=True)
    assert archived["conversation"]["status"] == "archived"
    assert archived["conversation"]["last_activity"] == before  # not counted as activity
    assert (await client.request(type="conversations"))["items"] == []
    listed = await client.request(type="conversations", archived=True)
    assert [c["id"] for c in listed["items"]] == [cid]

    refused = await client.error(type="message", content="One more?", conversation_id=cid)
    assert refused["code"] == "conversation_archived" and refused["conversation_id"] == cid
    assert refused["retryable"] is False
    history = await client.request(type="history", conversation_id=cid)
    assert len(history["messages"]) == 2  # read only: still readable, nothing was added

    await client.request(type="update_conversation", conversation_id=cid, archived=False)
    frames = await client.generate("One more?", conversation_id=cid)
    assert frames[-1]["type"] == "complete"


async def test_another_users_conversation_is_not_found(connect, user, other_user):
    mine = await connect("chat", user)
    cid = await _ask(mine, "What is a loop?")
    theirs = await connect("chat", other_user)
    for frame in (
        {"type": "update_conversation", "conversation_id": cid, "title": "Mine now"},
        {"type": "update_conversation", "conversation_id": cid, "archived": True},
    ):
        assert (await theirs.error(**frame))["code"] == "not_found"
    assert (await theirs.request(type="conversations"))["items"] == []
    conversation = await AIConversation.objects.aget(pk=cid)
    assert conversation.title == "What is a loop?" and conversation.status == "active"


async def test_a_blank_title_is_refused_and_changes_nothing(connect, user):
    client = await connect("chat", user)
    cid = await _ask(client, "What is a loop?")
    refused = await client.error(type="update_conversation", conversation_id=cid, title="   ")
    assert refused["code"] == "invalid_message"
    assert (await AIConversation.objects.aget(pk=cid)).title == "What is a loop?"


async def test_an_anonymous_chat_lists_and_archives_the_conversations_of_its_connection(settings):
    """Without signing in, the list is the connection's own; the same rules apply."""
    settings.CHAT_ALLOW_ANONYMOUS = True
    communicator = WebsocketCommunicator(application, "/ws/ai/chat/", headers=ORIGIN)
    communicator.scope["client"] = ("10.0.0.9", 5000)
    assert (await communicator.connect())[0]
    client = Client(communicator)
    assert (await client.recv())["type"] == "welcome"
    cid = await _ask(client, "What is a loop?")
    listed = await client.request(type="conversations")
    assert [c["id"] for c in listed["items"]] == [cid] and listed["items"][0]["kind"] == "chat"
    refused = await client.error(type="update_conversation", conversation_id=cid, title=" ")
    assert refused["code"] == "invalid_message"
    renamed = await client.request(type="update_conversation", conversation_id=cid, title="Loops")
    assert renamed["conversation"]["title"] == "Loops"
    await client.request(type="update_conversation", conversation_id=cid, archived=True)
    assert (await client.request(type="conversations"))["items"] == []
    refused = await client.error(type="message", content="More?", conversation_id=cid)
    assert refused["code"] == "conversation_archived"
    await client.close()
