"""`/api/conversations`: the caller's conversations of every endpoint, listed, opened, renamed
and archived; someone else's is 404."""

import pytest

from ai_chat.models import AIConversation, AIMessage

pytestmark = pytest.mark.django_db(transaction=True)


def _conversation(user, kind, title, *, messages=1):
    conversation = AIConversation.objects.create(user=user, kind=kind, title=title)
    for n in range(messages):
        AIMessage.objects.create(conversation=conversation, role="user", content=f"q{n}")
        AIMessage.objects.create(conversation=conversation, role="assistant", content=f"a{n}")
    return conversation


def test_list_every_kind_newest_first_or_one_kind(bearer, user, other_user):
    chat = _conversation(user, "chat", "Loops?")
    course = _conversation(user, "course", "Intro to Java")
    _conversation(other_user, "chat", "Not yours")
    client = bearer(user)
    body = client.get("/api/conversations").json()
    assert [c["id"] for c in body["items"]] == [str(course.pk), str(chat.pk)]
    assert body["count"] == 2 and body["pages"] == 1
    assert {"title", "status", "last_activity", "generating", "kind"} <= set(body["items"][0])
    only_chat = client.get("/api/conversations?kind=chat").json()
    assert [c["id"] for c in only_chat["items"]] == [str(chat.pk)]
    paged = client.get("/api/conversations?page_size=1&page=2").json()
    assert [c["id"] for c in paged["items"]] == [str(chat.pk)] and paged["pages"] == 2
    unknown = client.get("/api/conversations?kind=nope")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_request"


def test_open_gives_messages_newest_first_with_paging(bearer, user):
    conversation = _conversation(user, "chat", "Loops?", messages=3)
    client = bearer(user)
    body = client.get(f"/api/conversations/{conversation.pk}?limit=4").json()
    assert body["title"] == "Loops?" and body["has_more"] is True
    assert [m["content"] for m in body["messages"]] == ["a2", "q2", "a1", "q1"]
    older = client.get(
        f"/api/conversations/{conversation.pk}?limit=4&before={body['messages'][-1]['id']}"
    ).json()
    assert [m["content"] for m in older["messages"]] == ["a0", "q0"] and not older["has_more"]


def test_rename_and_archive_leave_the_default_list(bearer, user):
    conversation = _conversation(user, "chat", "Loops?")
    client = bearer(user)
    renamed = client.patch(
        f"/api/conversations/{conversation.pk}",
        {"title": "Loops in Java"},
        content_type="application/json",
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Loops in Java"
    archived = client.patch(
        f"/api/conversations/{conversation.pk}", {"archived": True}, content_type="application/json"
    ).json()
    assert archived["status"] == "archived"
    assert client.get("/api/conversations").json()["items"] == []
    listed = client.get("/api/conversations?archived=true").json()["items"]
    assert [c["id"] for c in listed] == [str(conversation.pk)]
    conversation.refresh_from_db()
    assert (conversation.title, conversation.status) == ("Loops in Java", "archived")


def test_someone_elses_conversation_is_404_and_unchanged(bearer, user, other_user):
    conversation = _conversation(user, "chat", "Loops?")
    client = bearer(other_user)
    assert client.get(f"/api/conversations/{conversation.pk}").status_code == 404
    patched = client.patch(
        f"/api/conversations/{conversation.pk}", {"archived": True}, content_type="application/json"
    )
    assert patched.status_code == 404 and patched.json()["error"]["code"] == "not_found"
    conversation.refresh_from_db()
    assert conversation.status == "active"


def test_a_blank_title_is_400(bearer, user):
    conversation = _conversation(user, "chat", "Loops?")
    answer = bearer(user).patch(
        f"/api/conversations/{conversation.pk}", {"title": "   "}, content_type="application/json"
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_request"


def test_signed_out_is_401(client):
    assert client.get("/api/conversations").status_code == 401
