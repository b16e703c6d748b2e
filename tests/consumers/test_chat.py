"""The tutor chat: markdown answers, typing state, feedback, and anonymous use where allowed."""

import pytest
from channels.testing import WebsocketCommunicator

from ai_chat.models import AIConversation, AIFeedback
from config.asgi import application
from tests.consumers.conftest import ORIGIN, Client

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = "/ws/ai/chat/"


async def _anonymous(settings, client_ip="10.0.0.1", headers=(), greeted=True):
    communicator = WebsocketCommunicator(application, CHAT, headers=[*ORIGIN, *headers])
    communicator.scope["client"] = (client_ip, 5000)
    connected, _ = await communicator.connect()
    assert connected
    client = Client(communicator)
    if greeted and settings.CHAT_ALLOW_ANONYMOUS and settings.TUTOR_WELCOME:  # greeted at once
        client.welcome = await client.recv()
        assert client.welcome["type"] == "welcome", client.welcome
    return client


async def test_signed_in_chat_streams_markdown_with_typing_state(connect, user):
    """A tutor answer streams as text, bracketed by typing on and typing off."""
    client = await connect("chat", user)
    await client.send(type="message", content="What is a loop?", request_id="q")
    frames = await client.until("complete", "error")
    types = [f["type"] for f in frames]
    assert types[:3] == ["conversation", "started", "typing"]
    assert frames[2]["active"] is True
    assert types[-2:] == ["typing", "complete"] and frames[-2]["active"] is False
    text = "".join(f["chunk"] for f in frames if f["type"] == "streaming")
    assert frames[-1]["data"] == {"text": text} and "Placeholder" in text
    assert await AIConversation.objects.filter(user=user, kind="chat").acount() == 1
    await client.close()


async def test_feedback_on_an_answer_is_stored_once_per_user(connect, user):
    """Rating an answer stores it; rating again replaces the first rating."""
    client = await connect("chat", user)
    await client.send(type="message", content="Explain recursion")
    done = (await client.until("complete"))[-1]
    for rating in (2, 5):
        await client.send(
            type="feedback", message_id=done["message_id"], rating=rating, comment="ok"
        )
        assert (await client.recv())["type"] == "feedback_saved"
    feedback = await AIFeedback.objects.aget(message_id=done["message_id"])
    assert feedback.rating == 5 and feedback.comment == "ok"
    await client.close()


async def test_feedback_on_another_users_answer_is_not_found(connect, user, other_user):
    """Nobody can rate someone else's answer, nor learn that it exists."""
    client = await connect("chat", user)
    await client.send(type="message", content="Explain recursion")
    done = (await client.until("complete"))[-1]
    other = await connect("chat", other_user)
    await other.send(type="feedback", message_id=done["message_id"], rating=1)
    assert (await other.recv())["code"] == "not_found"
    await client.close()
    await other.close()


async def test_anonymous_chat_is_refused_unless_settings_allow_it(settings):
    """By default an anonymous client must sign in before asking."""
    settings.CHAT_ALLOW_ANONYMOUS = False
    client = await _anonymous(settings)
    await client.send(type="message", content="Hi")
    frame = await client.recv()
    assert frame["type"] == "auth_error" and frame["code"] == "auth_required"


async def test_anonymous_chat_answers_and_stores_nothing(settings):
    """Where allowed, an anonymous client gets answers, history and nothing in the database."""
    settings.CHAT_ALLOW_ANONYMOUS = True
    client = await _anonymous(settings)
    await client.send(type="message", content="What is a variable?")
    frames = await client.until("complete")
    conversation_id = frames[0]["conversation_id"]
    await client.send(type="message", content="And a constant?", conversation_id=conversation_id)
    assert (await client.until("complete"))[0]["created"] is False
    await client.send(type="history", conversation_id=conversation_id, limit=3)
    page = await client.recv()
    assert [m["role"] for m in page["messages"]] == ["assistant", "user", "assistant"]
    assert page["has_more"] is True and page["messages"][0]["status"] == "completed"
    assert await AIConversation.objects.acount() == 0
    await client.close()


async def test_anonymous_chat_cannot_ground_on_a_course(settings, course):
    """Grounding reads a course, which an anonymous client may not see."""
    settings.CHAT_ALLOW_ANONYMOUS = True
    client = await _anonymous(settings)
    await client.send(type="message", content="Explain", context={"course_id": course.pk})
    frame = await client.recv()
    assert frame["code"] == "invalid_message"
    await client.close()


async def test_anonymous_rate_limit_keys_on_the_peer_not_a_forwarded_header(settings):
    """A spoofed X-Forwarded-For does not buy an anonymous client more messages."""
    settings.CHAT_ALLOW_ANONYMOUS = True
    settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE = 2
    codes = []
    for n in range(3):
        client = await _anonymous(settings, headers=[(b"x-forwarded-for", f"192.0.2.{n}".encode())])
        await client.send(type="message", content="Hi")
        codes.append((await client.recv())["type"])
        await client.close()
    assert codes == ["conversation", "conversation", "error"]


async def test_trusted_proxy_forwarded_address_is_the_key(settings):
    """Behind a trusted proxy, each forwarded client has its own anonymous limit."""
    settings.CHAT_ALLOW_ANONYMOUS = True
    settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE = 1
    settings.TRUSTED_PROXIES = ["10.9.9.9"]
    for n in range(3):
        client = await _anonymous(
            settings, "10.9.9.9", headers=[(b"x-forwarded-for", f"198.51.100.{n}".encode())]
        )
        await client.send(type="message", content="Hi")
        assert (await client.recv())["type"] == "conversation"
        await client.close()


async def test_chat_is_grounded_in_a_lesson_the_learner_is_enrolled_in(connect, lesson, make_user):
    """An enrolled learner's question carries the lesson's content to the model."""
    from channels.db import database_sync_to_async

    from ai_chat.models import AIMessage
    from learning.models import Enrollment

    learner = await database_sync_to_async(make_user)("lea")
    lesson.content = "A variable is a named box."
    await lesson.asave()
    await Enrollment.objects.acreate(learner=learner, course_id=lesson.course_id)
    client = await connect("chat", learner)
    await client.send(type="message", content="What is a box?", context={"lesson_id": lesson.pk})
    assert (await client.until("complete"))[-1]["type"] == "complete"
    question = await AIMessage.objects.aget(role="user")
    assert "A variable is a named box." in question.prompt and "What is a box?" in question.prompt
    await client.close()


async def test_chat_about_a_course_the_user_may_not_view_is_not_found(connect, course, other_user):
    """A course the user neither owns nor is enrolled in is not found, and not revealed."""
    client = await connect("chat", other_user)
    await client.send(type="message", content="Explain", context={"course_id": course.pk})
    assert (await client.recv())["code"] == "not_found"
    await client.send(type="message", content="Explain", context={"course_id": 999_999})
    assert (await client.recv())["code"] == "not_found"
    await client.close()


async def test_anonymous_connections_per_address_are_capped_and_freed(settings):
    """Over MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS: `rate_limited` then 4429; a closed socket
    gives its slot back, and another address is not affected."""
    settings.CHAT_ALLOW_ANONYMOUS = True
    settings.MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS = 2
    first, second = await _anonymous(settings), await _anonymous(settings)
    third = await _anonymous(settings, greeted=False)  # refused, not greeted
    assert (await third.recv())["code"] == "rate_limited"
    assert (await third.ws.receive_output(timeout=5))["code"] == 4429
    await third.close()  # the refused socket's slot lives until the socket is gone
    elsewhere = await _anonymous(settings, client_ip="10.0.0.2")
    await elsewhere.send(type="ping")
    assert (await elsewhere.recv())["type"] == "pong"
    await first.close()
    again = await _anonymous(settings)
    await again.send(type="ping")
    assert (await again.recv())["type"] == "pong"
    for client in (second, elsewhere, again):
        await client.close()
