"""`/ws/events/` frames that act count against one per-user budget (GCRA, as the AI
endpoints): over it, `error` `rate_limited` with `retry_after`, and nothing is done."""

import pytest

from learning.models import LessonProgress

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["embedded", "redis"])
def limited(request, settings):
    """A budget of 3 frames a minute, in memory or in Redis (database 9)."""
    if request.param == "redis":
        request.getfixturevalue("redis9")
    settings.EVENTS_RATE_LIMIT_PER_MINUTE = 3
    return request.param


async def test_over_the_budget_a_frame_is_rate_limited_and_not_done(
    limited, events, learner, lesson
):
    """Three frames pass; the fourth is refused with retry_after and records nothing."""
    client = await events(learner)
    await client.subscribe(f"user:{learner.pk}")
    for percent in (10, 20):
        await client.send(type="progress", lesson_id=lesson.pk, percent=percent)
        assert (await client.answer("ack", "error"))["type"] == "ack"
    await client.send(type="progress", lesson_id=lesson.pk, percent=90, request_id="over")
    refused = await client.answer("ack", "error")
    assert refused["code"] == "rate_limited" and refused["retryable"] is True
    assert refused["request_id"] == "over" and refused["retry_after"] >= 1
    progress = await LessonProgress.objects.aget(learner=learner, lesson=lesson)
    assert progress.percent == 20


async def test_the_budget_is_the_users_across_sockets_and_others_keep_theirs(
    limited, events, learner, user, lesson
):
    """A second socket of the same user shares the budget; another user is unaffected;
    `ping` and `unsubscribe` are never counted."""
    phone, laptop, teacher = await events(learner), await events(learner), await events(user)
    for _ in range(3):
        assert (await phone.request(type="subscribe", room=f"user:{learner.pk}"))["type"] == (
            "subscribed"
        )
    refused = await laptop.error(type="mark_read", notification_ids=[1])
    assert refused["code"] == "rate_limited"
    assert (await laptop.request(type="ping"))["type"] == "pong"
    assert (await laptop.request(type="unsubscribe", room=f"user:{learner.pk}"))["type"] == (
        "unsubscribed"
    )
    assert (await teacher.request(type="subscribe", room=f"user:{user.pk}"))["type"] == (
        "subscribed"
    )
