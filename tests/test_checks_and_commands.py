"""System checks refuse unsafe production settings; the management commands do their jobs."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ai_chat.models import AIConversation, AIMessage
from courses.models import Course

# Model checks ask the database what it supports (JSONField), so every test may touch it.
pytestmark = pytest.mark.django_db


def _error_ids() -> set[str]:
    return {m.id for m in checks.run_checks() if m.level >= checks.ERROR}


def test_development_defaults_pass_the_checks(settings):
    """With DEBUG on, the embedded defaults raise no error."""
    settings.DEBUG = True
    assert not {i for i in _error_ids() if i.startswith("lectern.")}


def test_production_refuses_the_default_secret_key(settings):
    """DEBUG off with the shipped SECRET_KEY is an error."""
    settings.DEBUG = False
    settings.SECRET_KEY = settings.INSECURE_SECRET_KEY
    assert "lectern.E001" in _error_ids()


def test_production_refuses_wildcard_hosts(settings):
    """DEBUG off with `*` in ALLOWED_HOSTS is an error."""
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50
    settings.ALLOWED_HOSTS = ["*"]
    assert "lectern.E002" in _error_ids()


def test_production_refuses_the_firebase_emulator(settings, monkeypatch):
    """DEBUG off with FIREBASE_AUTH_EMULATOR_HOST set is an error: tokens would go unchecked."""
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50
    settings.ALLOWED_HOSTS = ["lectern.example"]
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "localhost:9099")
    assert _error_ids() & {"lectern.E001", "lectern.E002", "lectern.E003"} == {"lectern.E003"}


def test_asgi_refuses_to_start_with_an_unsafe_setting(settings):
    """The ASGI application refuses to start in production mode when a check fails."""
    from django.core.exceptions import ImproperlyConfigured

    settings.DEBUG = True  # pytest-django turns DEBUG off; the import itself must succeed
    from config.startup import refuse_unsafe_production

    settings.DEBUG = False
    settings.SECRET_KEY = settings.INSECURE_SECRET_KEY
    with pytest.raises(ImproperlyConfigured, match=r"lectern\.E001"):
        refuse_unsafe_production()


def test_gemini_provider_without_a_key_is_an_error(settings):
    """AI_PROVIDER=gemini with no key is reported rather than failing on the first request."""
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = ""
    assert "lectern.E005" in _error_ids()


@pytest.mark.django_db(transaction=True)
def test_generate_streams_stores_and_saves_offline(settings):
    """`generate course` streams offline content, stores it, and `--save` writes the rows."""
    settings.AI_PROVIDER = "offline"
    settings.OFFLINE_CHUNK_DELAY_MS = 0
    out = StringIO()
    call_command(
        "generate", "course", "Intro to Java for kids", "--save", stdout=out, stderr=StringIO()
    )
    conversation = AIConversation.objects.get()
    assistant = conversation.messages.get(role="assistant")
    assert assistant.status == "completed" and assistant.data["title"].startswith("[Placeholder]")
    assert assistant.model == "offline-placeholder" and assistant.prompt_version
    assert Course.objects.get().title == assistant.data["title"]
    assert "saved: course" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_generate_reports_invalid_context(settings):
    """A context that fails validation is a CommandError naming the field."""
    with pytest.raises(CommandError, match="question_count"):
        call_command(
            "generate", "quiz", "Q", "--context", json.dumps({"lesson_id": 1, "question_count": 0})
        )


def test_check_ai_reports_the_offline_provider(settings):
    """`check_ai` makes one request and prints provider, model and latency."""
    settings.AI_PROVIDER = "offline"
    out = StringIO()
    call_command("check_ai", stdout=out)
    text = out.getvalue()
    assert "provider: offline" in text and "latency:" in text and "placeholder" in text


def test_purge_deletes_only_old_conversations(user):
    """Retention deletes conversations idle longer than the limit and keeps the rest."""
    old = AIConversation.objects.create(user=user, kind="course", title="old")
    new = AIConversation.objects.create(user=user, kind="course", title="new")
    AIMessage.objects.create(conversation=old, role="user", content="x")
    AIConversation.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=40))
    out = StringIO()
    call_command("purge_conversations", "--older-than", "30", stdout=out)
    assert list(AIConversation.objects.values_list("pk", flat=True)) == [new.pk]
    assert "deleted 1" in out.getvalue()


def _settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings under `env`: what a server process started that way would see."""
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )


def test_database_pool_configures_a_psycopg_pool_for_postgresql():
    loaded = _settings_in_a_fresh_process(
        DATABASE_URL="postgres://lectern@db.example:5432/lectern",
        DATABASE_POOL="true",
        DATABASE_POOL_MAX_SIZE="5",
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "'pool': {'min_size': 1, 'max_size': 5, 'timeout': 10}" in loaded.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_POOL": "true"}, "DATABASE_POOL needs a postgres:// DATABASE_URL"),
        (
            {
                "DATABASE_URL": "postgres://lectern@db.example:5432/lectern",
                "DATABASE_POOL": "true",
                "DATABASE_CONN_MAX_AGE": "60",
            },
            "DATABASE_POOL needs DATABASE_CONN_MAX_AGE=0",
        ),
    ],
    ids=["sqlite", "persistent-connections"],
)
def test_database_pool_refuses_what_it_cannot_pool(env, message):
    loaded = _settings_in_a_fresh_process(**env)
    assert loaded.returncode != 0 and message in loaded.stderr
