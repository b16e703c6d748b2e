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
def fresh_provider_breakers():
    """Each test starts with every provider's circuit breaker closed."""
    from ai_chat.agent.breaker import BREAKERS

    BREAKERS.clear()
    yield
    BREAKERS.clear()


@pytest.fixture(autouse=True)
def fresh_signin_cache():
    """Each test starts with nobody remembered as signed in (the flushed database sends no
    signals, and a later test may reuse a user's id or a uid)."""
    from accounts.signin_cache import signin_cache

    signin_cache.clear()
    yield
    signin_cache.clear()


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """A migrated SQLite file made once per run; copy it (`shutil.copy`) for a fresh database."""
    from tests.worker.process import WorkerProcess, worker_env

    path = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    WorkerProcess(env=worker_env(path)).manage("migrate", "--no-input", "-v0", timeout=300)
    return path


@pytest.fixture
def celery_worker(tmp_path, migrated_sqlite):
    """A real Celery worker process consuming both queues, stopped after the test.

    It runs on its own migrated SQLite file (`celery_worker.env["DATABASE_URL"]`), with Redis
    as the broker when the run has `REDIS_URL` (queues purged first), else the embedded
    filesystem broker beside that file. To serve the same database and broker, start a
    `tests.e2e.server.LiveServer(env=celery_worker.env)`; to enqueue or inspect from the
    worker's side, `celery_worker.manage("shell", "-c", ...)` or `manage("ping_worker")`.
    `celery_worker.stop(kill=True)` SIGKILLs it (crash tests); `.start()` runs it again;
    `.log()` is what it logged. Build other set-ups with `tests.worker.process.WorkerProcess`.
    """
    import shutil

    from tests.worker.process import WorkerProcess, worker_env

    shutil.copy(migrated_sqlite, tmp_path / "worker.sqlite3")
    worker = WorkerProcess(env=worker_env(tmp_path / "worker.sqlite3"))
    if worker.env.get("REDIS_URL"):
        worker.purge()
    worker.start()
    yield worker
    worker.stop()
