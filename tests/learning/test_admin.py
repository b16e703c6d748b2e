"""The admin of enrollments, progress, confusion and notifications: lists, filters, search."""

import pytest
from django.urls import reverse

from learning.models import Confusion, LessonProgress
from realtime.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def rows(learner, lesson):
    LessonProgress.objects.create(learner=learner, lesson=lesson, percent=50, position="p1")
    Confusion.objects.create(learner=learner, lesson=lesson, position="p2", note="Why loops?")
    Notification.objects.create(user=learner, title="Welcome", body="Hello Lea")


@pytest.mark.parametrize(
    "model, query",
    [
        ("learning_enrollment", {"q": "lea", "role__exact": "learner"}),
        ("learning_lessonprogress", {"q": "Variables", "completed_at__isempty": "1"}),
        ("learning_confusion", {"q": "loops", "resolved_at__isempty": "1"}),
        ("realtime_notification", {"q": "Welcome", "read_at__isempty": "1"}),
    ],
)
def test_each_changelist_lists_filters_and_searches(staff_client, rows, model, query):
    """The changelist answers with the row, under a search and a filter."""
    url = reverse(f"admin:{model}_changelist")
    response = staff_client.get(url, query)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_the_resolve_action_resolves_through_the_service(staff_client, staff_user, rows):
    """Resolving from the admin records the staff user as the resolver."""
    confusion = Confusion.objects.get()
    response = staff_client.post(
        reverse("admin:learning_confusion_changelist"),
        {"action": "resolve", "_selected_action": [confusion.pk]},
    )
    assert response.status_code == 302
    confusion.refresh_from_db()
    assert confusion.resolved_by == staff_user and confusion.resolved_at is not None


def test_each_change_form_opens(staff_client, rows):
    """A row's change page renders for each model."""
    for model, obj in (
        ("learning_lessonprogress", LessonProgress.objects.get()),
        ("learning_confusion", Confusion.objects.get()),
        ("realtime_notification", Notification.objects.get()),
    ):
        response = staff_client.get(reverse(f"admin:{model}_change", args=[obj.pk]))
        assert response.status_code == 200, model
