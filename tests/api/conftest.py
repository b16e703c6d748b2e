"""API test fixtures: a course with a module and lessons, an enrolled learner, an outsider, and
HTTP clients signed in with real Firebase ID tokens (signed here, verified by firebase-admin)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import FirebaseAccount
from learning.models import Enrollment
from tests.fakes.firebase import firebase, firebase_server  # noqa: F401

User = get_user_model()


@pytest.fixture
def bearer(firebase):  # noqa: F811
    """A client signed in as `user` with a Firebase ID token (their FirebaseAccount made first)."""

    def make(user, *, uid: str | None = None, **claims) -> Client:
        uid = uid or f"uid-{user.username}"
        FirebaseAccount.objects.get_or_create(uid=uid, defaults={"user": user})
        token = firebase.token(uid=uid, email=user.email, name=user.username, **claims)
        return Client(headers={"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def learner(make_user, course):
    learner = make_user("lea")
    Enrollment.objects.create(learner=learner, course=course)
    return learner


@pytest.fixture
def module(course):
    return course.modules.get()
