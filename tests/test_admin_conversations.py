"""The admin's conversation review: list, detail, search, filters, actions, other AI models."""

import datetime
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from accounts.models import FirebaseAccount
from ai_chat.admin import ModelUsedFilter
from ai_chat.models import (
    AIConversation,
    AIDailyUsage,
    AIFeedback,
    AIGeneratedObject,
    AIMessage,
    AIResultSave,
)
from courses.models import Course

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:ai_chat_aiconversation_changelist"
COURSE_DATA = {"title": "Intro to Java", "modules": [{"title": "Basics", "lessons": ["Loops"]}]}


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def conversation(user, other_user, course):
    """A course conversation: a request, a saved reply that wrote `course`, and feedback."""
    conversation = AIConversation.objects.create(
        user=user,
        kind="course",
        title="Java for kids",
        context={"audience": "kids"},
        input_tokens=120,
        output_tokens=380,
    )
    AIMessage.objects.create(
        conversation=conversation, role="user", content="Make a Java course for kids"
    )
    reply = AIMessage.objects.create(
        conversation=conversation,
        role="assistant",
        content="Here is your course outline.",
        data=COURSE_DATA,
        model="gemini-x",
        status="completed",
        input_tokens=120,
        output_tokens=380,
    )
    save = AIResultSave.objects.create(message=reply, user=user)
    AIGeneratedObject.objects.create(
        save_record=save,
        message=reply,
        position=0,
        object_type="course",
        content_type=ContentType.objects.get_for_model(Course),
        object_id=course.pk,
    )
    AIFeedback.objects.create(
        message=reply, user=user, rating=4, comment="Nice outline, a bit long."
    )
    return conversation


def make_conversation(user, title, *, kind="course", model="gemini-x", text="Hello"):
    conversation = AIConversation.objects.create(user=user, kind=kind, title=title)
    AIMessage.objects.create(conversation=conversation, role="user", content=text)
    AIMessage.objects.create(
        conversation=conversation, role="assistant", content="Sure.", model=model, data={}
    )
    return conversation


def changelist_rows(response):
    return list(response.context["cl"].result_list)


def test_changelist_shows_title_message_count_and_model(staff_client, conversation):
    """Staff see each conversation's title, message count and model."""
    response = staff_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert "Java for kids" in response.text
    assert "gemini-x" in response.text
    [row] = changelist_rows(response)
    assert row.message_count == 2
    assert row.latest_model == "gemini-x"


def test_changelist_shows_tokens_as_input_plus_output(staff_client, conversation):
    """The tokens column adds the conversation's input and output tokens."""
    response = staff_client.get(reverse(CHANGELIST))

    [row] = changelist_rows(response)
    assert row.total_tokens == 500
    assert '<td class="field-total_tokens">500</td>' in response.text


def test_changelist_model_is_the_latest_assistant_messages(staff_client, conversation):
    """The model column names the model of the newest assistant message."""
    AIMessage.objects.create(
        conversation=conversation, role="assistant", content="Shorter.", model="gemini-y"
    )

    [row] = changelist_rows(staff_client.get(reverse(CHANGELIST)))

    assert row.latest_model == "gemini-y"


def test_search_by_message_text_finds_the_conversation_once(staff_client, conversation):
    """A search matching several messages lists the conversation once, its count intact."""
    make_conversation(conversation.user, "Unrelated", text="Tell me about Python")

    response = staff_client.get(reverse(CHANGELIST), {"q": "course"})

    [row] = changelist_rows(response)
    assert row.pk == conversation.pk
    assert row.message_count == 2


def test_search_by_user_email_finds_their_conversations(staff_client, conversation, other_user):
    """A search for a user's email lists only that user's conversations."""
    make_conversation(other_user, "Bob's chat")

    response = staff_client.get(reverse(CHANGELIST), {"q": "bob@example.com"})

    assert [row.title for row in changelist_rows(response)] == ["Bob's chat"]


def test_filter_by_kind(staff_client, conversation):
    """The kind filter keeps only conversations of that kind."""
    make_conversation(conversation.user, "A quiz", kind="quiz")

    response = staff_client.get(reverse(CHANGELIST), {"kind__exact": "quiz"})

    assert [row.title for row in changelist_rows(response)] == ["A quiz"]


def test_filter_by_model(staff_client, conversation):
    """The model filter keeps conversations with a message from that model."""
    make_conversation(conversation.user, "On the other model", model="gemini-y")

    response = staff_client.get(reverse(CHANGELIST), {"model": "gemini-y"})

    assert [row.title for row in changelist_rows(response)] == ["On the other model"]


def test_model_filter_offers_each_model_once(staff_client, conversation):
    """The model filter lists the distinct models messages were written by."""
    make_conversation(conversation.user, "Again", model="gemini-x")
    make_conversation(conversation.user, "Other", model="gemini-y")

    response = staff_client.get(reverse(CHANGELIST))

    [model_filter] = [
        spec for spec in response.context["cl"].filter_specs if isinstance(spec, ModelUsedFilter)
    ]
    assert model_filter.lookup_choices == [("gemini-x", "gemini-x"), ("gemini-y", "gemini-y")]


def test_filter_by_flag(staff_client, conversation):
    """The review flag filter keeps only flagged conversations."""
    flagged = make_conversation(conversation.user, "Needs a look")
    AIConversation.objects.filter(pk=flagged.pk).update(flagged_for_review=True)

    response = staff_client.get(reverse(CHANGELIST), {"flagged_for_review__exact": "1"})

    assert [row.title for row in changelist_rows(response)] == ["Needs a look"]


def test_change_page_shows_message_content(staff_client, conversation):
    """The detail page shows every message's text."""
    response = staff_client.get(conversation_url(conversation))

    assert response.status_code == 200
    assert "Make a Java course for kids" in response.text
    assert "Here is your course outline." in response.text


def test_change_page_pretty_prints_message_data(staff_client, conversation):
    """The structured result is shown indented inside <pre>."""
    response = staff_client.get(conversation_url(conversation))

    assert f"<pre>{escape(json.dumps(COURSE_DATA, indent=2))}</pre>" in response.text


def test_change_page_escapes_message_data(staff_client, conversation):
    """Markup in a result is shown as text, never rendered."""
    AIMessage.objects.create(
        conversation=conversation, role="assistant", data={"title": "<script>alert(1)</script>"}
    )

    response = staff_client.get(conversation_url(conversation))

    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_change_page_links_to_the_generated_course(staff_client, conversation, course):
    """A saved reply links to the admin page of the course it wrote."""
    response = staff_client.get(conversation_url(conversation))

    url = reverse("admin:courses_course_change", args=[course.pk])
    assert f'<a href="{url}">Course #{course.pk}: Intro to Java</a>' in response.text


def test_change_page_marks_a_deleted_generated_row(staff_client, conversation, course):
    """A row deleted since the save is named, without a link."""
    course_pk = course.pk
    Course.objects.filter(pk=course_pk).delete()

    response = staff_client.get(conversation_url(conversation))

    assert f"Course #{course_pk} (deleted)" in response.text


def test_change_page_shows_feedback(staff_client, conversation):
    """The detail page shows each reply's rating and comment."""
    response = staff_client.get(conversation_url(conversation))

    assert "4/5 from ana@example.com: Nice outline, a bit long." in response.text


def test_change_page_queries_do_not_grow_with_messages(staff_client, conversation, course):
    """Feedback and generated rows of every message are fetched in a fixed number of queries."""

    def add_reply(n):
        reply = AIMessage.objects.create(
            conversation=conversation, role="assistant", content=f"Reply {n}", data={"n": n}
        )
        save = AIResultSave.objects.create(message=reply, user=conversation.user)
        AIGeneratedObject.objects.create(
            save_record=save,
            message=reply,
            position=0,
            object_type="course",
            content_type=ContentType.objects.get_for_model(Course),
            object_id=course.pk,
        )
        AIFeedback.objects.create(message=reply, user=conversation.user, rating=3)

    staff_client.get(conversation_url(conversation))
    with CaptureQueriesContext(connection) as few:
        staff_client.get(conversation_url(conversation))
    for n in range(8):
        add_reply(n)
    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(conversation_url(conversation))

    assert "Reply 7" in response.text
    assert len(many) == len(few)


def test_change_page_saves_the_flag_but_not_the_content(staff_client, conversation):
    """Staff can flag a conversation and change its status; its title stays as written."""
    messages = list(conversation.messages.all())
    data = {
        "title": "Rewritten",
        "status": "archived",
        "flagged_for_review": "on",
        "messages-TOTAL_FORMS": str(len(messages)),
        "messages-INITIAL_FORMS": str(len(messages)),
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
    }
    for i, message in enumerate(messages):
        data[f"messages-{i}-id"] = str(message.pk)
        data[f"messages-{i}-conversation"] = str(conversation.pk)

    response = staff_client.post(conversation_url(conversation), data)

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.flagged_for_review is True
    assert conversation.status == "archived"
    assert conversation.title == "Java for kids"
    assert conversation.messages.count() == 2


def test_conversations_cannot_be_added(staff_client):
    """The review tool has no page to add a conversation."""
    response = staff_client.get(reverse("admin:ai_chat_aiconversation_add"))

    assert response.status_code == 403


def test_staff_can_delete_a_conversation_with_its_messages(staff_client, conversation):
    """Deleting a conversation is allowed and takes its messages, saves and feedback along."""
    url = reverse("admin:ai_chat_aiconversation_delete", args=[conversation.pk])

    response = staff_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not AIConversation.objects.exists()
    assert not AIMessage.objects.exists()
    assert not AIFeedback.objects.exists()
    assert not AIGeneratedObject.objects.exists()


def test_export_action_returns_json_with_messages(staff_client, conversation, course):
    """Export sends the selected conversations with messages, feedback and written rows."""
    make_conversation(conversation.user, "Not selected")

    response = post_action(staff_client, "export_as_json", [conversation])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="ai-conversations-')
    [exported] = json.loads(response.content)["conversations"]
    assert exported["id"] == str(conversation.pk)
    assert exported["user"]["email"] == "ana@example.com"
    assert [m["content"] for m in exported["messages"]] == [
        "Make a Java course for kids",
        "Here is your course outline.",
    ]
    reply = exported["messages"][1]
    assert reply["data"] == COURSE_DATA
    assert reply["model"] == "gemini-x"
    assert reply["feedback"][0]["comment"] == "Nice outline, a bit long."
    assert reply["generated_objects"] == [
        {
            "position": 0,
            "object_type": "course",
            "app_label": "courses",
            "model": "course",
            "object_id": course.pk,
            "created": True,
        }
    ]


def test_flag_action_sets_the_flag(staff_client, conversation):
    """Flag for review flags the selected conversations and says how many."""
    other = make_conversation(conversation.user, "Not selected")

    response = post_action(staff_client, "flag_for_review", [conversation], follow=True)

    conversation.refresh_from_db()
    other.refresh_from_db()
    assert conversation.flagged_for_review is True
    assert other.flagged_for_review is False
    assert "1 conversation flagged for review." in response.text


def test_flag_action_works_on_search_results(staff_client, conversation):
    """Flagging from a search on message text flags the selected conversation."""
    response = post_action(staff_client, "flag_for_review", [conversation], query="?q=course")

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.flagged_for_review is True


def test_clear_flag_action_clears_the_flag(staff_client, conversation):
    """Clear review flag unflags the selected conversations."""
    AIConversation.objects.filter(pk=conversation.pk).update(flagged_for_review=True)

    post_action(staff_client, "clear_review_flag", [conversation])

    conversation.refresh_from_db()
    assert conversation.flagged_for_review is False


def test_changelist_queries_do_not_grow_with_conversations(staff_client, user):
    """The list costs the same number of queries for one conversation as for ten."""
    make_conversation(user, "First")
    staff_client.get(reverse(CHANGELIST))
    with CaptureQueriesContext(connection) as one:
        staff_client.get(reverse(CHANGELIST))
    for n in range(9):
        make_conversation(user, f"More {n}", model=f"gemini-{n}")
    with CaptureQueriesContext(connection) as ten:
        response = staff_client.get(reverse(CHANGELIST))

    assert len(changelist_rows(response)) == 10
    assert len(ten) == len(one)


@pytest.mark.parametrize(
    "name",
    [
        "admin:ai_chat_aiconversation_changelist",
        "admin:ai_chat_aimessage_changelist",
        "admin:ai_chat_aifeedback_changelist",
        "admin:ai_chat_airesultsave_changelist",
        "admin:ai_chat_aigeneratedobject_changelist",
        "admin:ai_chat_aidailyusage_changelist",
        "admin:accounts_firebaseaccount_changelist",
    ],
)
def test_non_staff_users_are_sent_to_login(client, user, name):
    """A signed-in user who is not staff is redirected to the admin login."""
    client.force_login(user)

    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_users_cannot_open_a_conversation(client, user, conversation):
    """A user is redirected to login even for their own conversation's admin page."""
    client.force_login(user)

    response = client.get(conversation_url(conversation))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_message_changelist_searches_content(staff_client, conversation):
    """The message list finds messages by their text."""
    response = staff_client.get(reverse("admin:ai_chat_aimessage_changelist"), {"q": "outline"})

    assert [row.content for row in changelist_rows(response)] == ["Here is your course outline."]


def test_message_changelist_filters_by_role_and_model(staff_client, conversation):
    """The message list filters by role and by model."""
    url = reverse("admin:ai_chat_aimessage_changelist")

    by_role = staff_client.get(url, {"role__exact": "user"})
    by_model = staff_client.get(url, {"model__exact": "gemini-x"})

    assert [row.role for row in changelist_rows(by_role)] == ["user"]
    assert [row.model for row in changelist_rows(by_model)] == ["gemini-x"]


def test_message_change_page_is_read_only(staff_client, conversation, course):
    """A message's page shows its data, links and feedback, with nothing to save."""
    reply = conversation.messages.get(role="assistant")

    response = staff_client.get(reverse("admin:ai_chat_aimessage_change", args=[reply.pk]))

    assert response.status_code == 200
    assert escape(json.dumps(COURSE_DATA, indent=2)) in response.text
    assert reverse("admin:courses_course_change", args=[course.pk]) in response.text
    assert "Nice outline, a bit long." in response.text
    assert 'name="_save"' not in response.text


def test_feedback_changelist_filters_by_rating(staff_client, conversation, other_user):
    """The feedback list shows comments and filters by rating."""
    reply = conversation.messages.get(role="assistant")
    AIFeedback.objects.create(message=reply, user=other_user, rating=1, comment="Too long.")
    url = reverse("admin:ai_chat_aifeedback_changelist")

    response = staff_client.get(url, {"rating": "1"})

    assert [row.comment for row in changelist_rows(response)] == ["Too long."]
    assert "Nice outline" in staff_client.get(url).text


def test_result_save_change_page_links_to_the_rows_it_wrote(staff_client, conversation, course):
    """A save's page lists the rows it wrote, each linked to its admin page."""
    save = AIResultSave.objects.get()

    response = staff_client.get(reverse("admin:ai_chat_airesultsave_change", args=[save.pk]))

    assert response.status_code == 200
    assert reverse("admin:courses_course_change", args=[course.pk]) in response.text
    assert (
        "Java for kids" in staff_client.get(reverse("admin:ai_chat_airesultsave_changelist")).text
    )


def test_generated_object_changelist_links_to_targets(staff_client, conversation, course):
    """The generated-object list links each row to its target's admin page."""
    response = staff_client.get(reverse("admin:ai_chat_aigeneratedobject_changelist"))

    assert reverse("admin:courses_course_change", args=[course.pk]) in response.text


def test_generated_object_change_page_links_to_its_target(staff_client, conversation, course):
    """A generated object's page links to the row it records."""
    generated = AIGeneratedObject.objects.get()
    url = reverse("admin:ai_chat_aigeneratedobject_change", args=[generated.pk])

    response = staff_client.get(url)

    assert response.status_code == 200
    assert reverse("admin:courses_course_change", args=[course.pk]) in response.text


def test_daily_usage_changelist_lists_usage(staff_client, user):
    """The usage ledger lists each user's day and tokens."""
    AIDailyUsage.objects.create(
        user=user, day=datetime.date(2025, 3, 1), used_tokens=1234, generations=3
    )

    response = staff_client.get(reverse("admin:ai_chat_aidailyusage_changelist"))

    [row] = changelist_rows(response)
    assert row.used_tokens == 1234
    assert "1234" in response.text


def test_firebase_account_changelist_searches_uid(staff_client, user):
    """The Firebase account list finds an account by its uid."""
    FirebaseAccount.objects.create(user=user, uid="firebase-uid-1")

    response = staff_client.get(
        reverse("admin:accounts_firebaseaccount_changelist"), {"q": "firebase-uid-1"}
    )

    assert [row.uid for row in changelist_rows(response)] == ["firebase-uid-1"]


def conversation_url(conversation):
    return reverse("admin:ai_chat_aiconversation_change", args=[conversation.pk])


def post_action(client, action, conversations, *, query="", follow=False):
    data = {"action": action, "_selected_action": [str(c.pk) for c in conversations]}
    return client.post(reverse(CHANGELIST) + query, data, follow=follow)


def test_change_page_shows_each_reply_once(staff_client, user):
    """A reply whose text is its result (JSON, or the tutor's markdown) is shown once, not as
    its text and again as its data (the inline's heading names its first 60 characters)."""
    conversation = AIConversation.objects.create(user=user, kind="course", title="Loops")
    data = {"title": "Loops for kids", "description": "unique-course-title", "modules": []}
    AIMessage.objects.create(
        conversation=conversation,
        role="assistant",
        content="```json\n" + json.dumps(data, indent=1) + "\n```",
        data=data,
        status="completed",
    )
    answer = "**Loops** repeat a block of code while a condition holds: unique-tutor-answer"
    AIMessage.objects.create(
        conversation=conversation, role="assistant", content=answer, data={"text": answer}
    )

    page = staff_client.get(conversation_url(conversation)).text

    assert page.count("unique-course-title") == 1
    assert "<pre>{" in page and escape('"title": "Loops for kids"') in page  # the data, once
    assert page.count("unique-tutor-answer") == 1
    assert "<p>**Loops** repeat a block" in page  # the text as paragraphs, escaped once


def test_change_page_escapes_message_text(staff_client, user):
    conversation = AIConversation.objects.create(user=user, kind="chat", title="x")
    AIMessage.objects.create(conversation=conversation, role="user", content="<b>hi</b>\nthere")
    page = staff_client.get(conversation_url(conversation)).text
    assert "<p>&lt;b&gt;hi&lt;/b&gt;<br>there</p>" in page
