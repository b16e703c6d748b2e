"""The Celery app's configuration: routing, reliability settings, the numbers that must relate."""

import os
import subprocess
import sys
import time

import pytest

from config import celery_app
from config.celery import broker_folders_ensure, broker_processed_prune
from tests.e2e.server import ROOT


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("imports.tasks.analyse_repository", "repo_analysis"),
        ("imports.tasks.repository_clone_task", "repo_analysis"),
        ("imports.tasks.document_analyser_task", "ai_processing"),
        ("imports.tasks.modules_generation_task", "ai_processing"),
        ("ai_chat.tasks.generate_lesson", "ai_processing"),
        ("ops.tasks.ping", "ai_processing"),
    ],
)
def test_tasks_are_routed_by_module(task, queue):
    route = celery_app.amqp.router.route({}, task)
    assert route["queue"].name == queue


def test_reliability_settings_are_on():
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_retry_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss
    assert conf.task_ignore_result and not conf.result_backend
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.timezone == "UTC" and conf.enable_utc


def _import_settings(**env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.CELERY_BROKER_URL)"],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_visibility_timeout_shorter_than_the_time_limit_is_refused():
    """Redis would hand a still-running task to a second worker: refuse to start."""
    result = _import_settings(
        CELERY_TASK_TIME_LIMIT="600",
        CELERY_TASK_SOFT_TIME_LIMIT="500",
        CELERY_BROKER_VISIBILITY_TIMEOUT="600",
    )
    assert result.returncode != 0
    assert "CELERY_BROKER_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT" in result.stderr


@pytest.mark.parametrize(
    ("env", "broker"),
    [
        ({}, "filesystem://localhost//"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/3"}, "redis://127.0.0.1:6379/3"),
        (
            {"REDIS_URL": "redis://a:6379/0", "CELERY_BROKER_URL": "redis://b:6379/1"},
            "redis://b:6379/1",
        ),
    ],
)
def test_the_broker_is_redis_when_configured_else_the_filesystem(env, broker):
    result = _import_settings(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == broker


def test_workers_prune_old_taken_messages(settings, tmp_path):
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "control_folder": str(tmp_path / "control"),
        "processed_folder": str(tmp_path / "processed"),
    }
    settings.BROKER_IS_FILESYSTEM = True
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    broker_folders_ensure()
    old, new = tmp_path / "processed" / "1_a.q.msg", tmp_path / "processed" / "2_b.q.msg"
    old.write_text("{}")
    new.write_text("{}")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    assert broker_processed_prune() == 1
    assert not old.exists() and new.exists()


def _check_ids(**env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "REDIS_"))}
    code = (
        "import django; django.setup(); from django.core.checks import run_checks;"
        "print(sorted(m.id for m in run_checks()))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_task_allowed_to_outlive_the_visibility_timeout_is_refused():
    """The lesson job's own limit (JOB_TIME_LIMIT_SECONDS + 60) must stay below it too."""
    redis = {"REDIS_URL": "redis://127.0.0.1:6379/3", "CELERY_BROKER_VISIBILITY_TIMEOUT": "1800"}
    fine = _check_ids(**redis)
    assert fine.returncode == 0, fine.stderr[-2000:]
    assert "ops.E002" not in fine.stdout
    too_long = _check_ids(**redis, JOB_TIME_LIMIT_SECONDS="1800")
    assert "ops.E002" in too_long.stdout
    assert "ops.E002" not in _check_ids(JOB_TIME_LIMIT_SECONDS="1800").stdout  # filesystem
