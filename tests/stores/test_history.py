"""History pages: bounded by bytes as well as by count, in both stores."""

import json

import pytest
from asgiref.sync import sync_to_async

from ai_chat.models import AIConversation, AIMessage
from ai_chat.stores.database import DatabaseStore
from ai_chat.stores.frames import HISTORY_PAGE_BYTES
from ai_chat.stores.memory import MemoryStore

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "word " * 40_000  # a 200 KB lesson


def long_lesson_conversation(user) -> AIConversation:
    """Nine turns of long lesson results (each answer's text stored twice: content and data)."""
    conversation = AIConversation.objects.create(user=user, kind="lesson", title="Loops")
    for _ in range(9):
        AIMessage.objects.create(conversation=conversation, role="user", content="again")
        AIMessage.objects.create(
            conversation=conversation,
            role="assistant",
            status="completed",
            content=LONG,
            data={"content": LONG},
        )
    return conversation


async def test_a_long_conversation_is_read_in_pages_each_below_the_transport_limit(user):
    conversation = await sync_to_async(long_lesson_conversation)(user)
    store = DatabaseStore(user)
    seen: list[str] = []
    before = None
    while True:
        page = await store.history(
            kind="lesson", conversation_id=conversation.pk, before=before, limit=50
        )
        assert len(page.wire().encode()) <= HISTORY_PAGE_BYTES + 4096
        assert page.messages, "a page always holds at least one message"
        seen += [str(m.id) for m in page.messages]
        if not page.has_more:
            break
        before = page.messages[-1].id
    assert len(seen) == len(set(seen)) == 18


async def test_the_anonymous_store_pages_by_bytes_too():
    store = MemoryStore(address="127.0.0.1")
    turn = await store.prepare(
        kind="chat", content="hi", context=None, conversation_id=None, refinement=False, model="m"
    )
    conversation = store.get(turn.conversation_id)
    for _ in range(8):
        conversation.messages.append({**conversation.messages[0], "content": LONG})
    page = await store.history(kind="chat", conversation_id=conversation.id, before=None, limit=50)
    assert page.has_more and 0 < len(page.messages) < 10
    assert len(json.dumps(json.loads(page.wire())).encode()) <= HISTORY_PAGE_BYTES + 4096
