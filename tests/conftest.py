"""Shared fixtures: users and a small course to work on; a clean Redis namespace per test."""

import pytest
from django.contrib.auth import get_user_model

from assessments.models import Assignment
from courses.models import Course, Module
from lessons.models import Lesson


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def clean_redis_keys(settings):
    """With REDIS_URL set, each test starts without other tests' limits and stream logs."""
    if not settings.REDIS_URL:
        yield
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("lectern:*", count=1000):
        client.delete(key)
    client.close()
    yield


@pytest.fixture
def make_user(db):
    def make(username: str = "ana", *, staff: bool = False, **extra):
        User = get_user_model()
        return User.objects.create_user(
            username=username,
            email=extra.pop("email", f"{username}@example.com"),
            password=extra.pop("password", "pw-for-tests-only"),
            is_staff=staff,
            **extra,
        )

    return make


@pytest.fixture
def user(make_user):
    return make_user("ana")


@pytest.fixture
def other_user(make_user):
    return make_user("bob")


@pytest.fixture
def staff_user(make_user):
    return make_user("sam", staff=True, is_superuser=True)


@pytest.fixture
def course(user):
    course = Course.objects.create(
        owner=user, title="Intro to Java", description="Java for kids", age_range="8-12"
    )
    module = Module.objects.create(course=course, position=0, title="Basics")
    Lesson.objects.create(course=course, module=module, position=0, title="Variables")
    Lesson.objects.create(course=course, module=module, position=1, title="Loops")
    return course


@pytest.fixture
def lesson(course):
    return course.lessons.get(position=0)


@pytest.fixture
def assignment(course, lesson):
    return Assignment.objects.create(course=course, lesson=lesson, title="Homework 1")
