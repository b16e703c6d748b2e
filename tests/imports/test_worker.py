"""A whole import run by a real Celery worker process: stage 1 on `repo_analysis`, stages 2 to
4 on `ai_processing`, on a local repository made with real git and the offline provider."""

import contextlib
import json
import shutil
import sqlite3
import time

import pytest

from tests.imports.conftest import FILES, make_repo
from tests.worker.process import WorkerProcess, worker_env

pytestmark = pytest.mark.timeout(300)

SETUP = """
from django.contrib.auth import get_user_model
from courses.models import Course
owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw")
print(Course.objects.create(owner=owner, title="Widget", description="From the docs").pk)
"""

CALL = """
from django.contrib.auth import get_user_model
from imports.services import requests
user = get_user_model().objects.get(username="owner")
{call}
"""

STAGES = "SELECT stage, status, progress, current_step, error_message FROM imports_stagetask"


def _stages(worker: WorkerProcess) -> dict[int, tuple]:
    path = worker.env["DATABASE_URL"].removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
        return {row[0]: row[1:] for row in db.execute(STAGES)}


def _query(worker: WorkerProcess, sql: str) -> list[tuple]:
    path = worker.env["DATABASE_URL"].removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
        return list(db.execute(sql))


def _wait_stage(worker: WorkerProcess, stage: int, timeout: float = 120) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _stages(worker).get(stage)
        if row and row[0] in ("SUCCESS", "FAILURE"):
            return row
        time.sleep(0.5)
    raise AssertionError(f"stage {stage} did not end: {_stages(worker)}\n{worker.log()[-3000:]}")


def test_a_worker_imports_a_repository_into_a_course(tmp_path, migrated_sqlite):
    repo = make_repo(tmp_path / "widget-docs", FILES)
    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    worker = WorkerProcess(
        env=worker_env(
            tmp_path / "db.sqlite3",
            REPOSITORY_ALLOW_LOCAL="true",
            OFFLINE_CHUNK_DELAY_MS="0",
        )
    )
    if worker.env.get("REDIS_URL"):
        worker.purge()
    course_id = int(worker.manage("shell", "-c", SETUP).split()[-1])

    def call(code: str) -> None:
        worker.manage("shell", "-c", CALL.format(call=code.format(course=course_id)))

    worker.start()
    try:
        call(
            f"requests.repository_analyze_request(user=user, course_id={{course}}, "
            f"repo_url={str(repo)!r})"
        )
        assert _wait_stage(worker, 1) == ("SUCCESS", 100, "Repository analysis complete", "")
        call(
            "requests.stage1_selection_save(user=user, course_id={course}, "
            "selected_folders=['docs'], overview_document='README.md', excluded_documents=[])"
        )
        call(
            "requests.documents_analyze_request(user=user, course_id={course}, "
            "complexity_level='beginner', additional_info='')"
        )
        assert _wait_stage(worker, 2)[:3] == ("SUCCESS", 100, "Document analysis complete")
        call(
            "requests.pathways_generate_request(user=user, course_id={course}, additional_info='')"
        )
        assert _wait_stage(worker, 3)[0] == "SUCCESS"
        pathway = _query(worker, "SELECT id FROM imports_pathway ORDER BY position")[0][0]
        call(
            f"requests.stage3_selection_save(user=user, course_id={{course}}, pathway_id={pathway})"
        )
        call("requests.course_generate_request(user=user, course_id={course})")
        assert _wait_stage(worker, 4)[:3] == ("SUCCESS", 100, "Course ready")
    finally:
        worker.stop()
    log = worker.log()
    assert "imports.tasks.repository_clone_task" in log and "modules_generation_task" in log
    statuses = _query(worker, "SELECT status FROM imports_courseimport")
    assert statuses == [("stage4_complete",)]
    analysed = _query(worker, "SELECT file_path FROM imports_analyzeddocument ORDER BY file_path")
    assert [p for (p,) in analysed] == [
        "README.md",
        "docs/api/reference.md",
        "docs/guide.md",
        "docs/long.md",
        "docs/tricky.md",
    ]
    lessons = _query(
        worker,
        "SELECT l.generation_status FROM lessons_lesson l JOIN "
        "imports_lessondocument d ON d.lesson_id = l.id",
    )
    assert lessons and {s for (s,) in lessons} == {"pending"}


def test_a_stage_whose_worker_is_killed_resumes_on_the_next_worker(tmp_path, migrated_sqlite):
    """SIGKILL mid stage 2: the lease expires, the sweep queues it again, and the next worker
    analyses only the documents still missing."""
    repo = make_repo(tmp_path / "widget-docs", FILES)
    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    env = worker_env(
        tmp_path / "db.sqlite3",
        REPOSITORY_ALLOW_LOCAL="true",
        OFFLINE_CHUNK_DELAY_MS="60",  # a couple of seconds per document
        IMPORT_ANALYSIS_CONCURRENCY="1",
        JOB_HEARTBEAT_SECONDS="0.3",
        JOB_LEASE_SECONDS="2",
        JOB_SWEEP_SECONDS="0.5",
    )
    worker = WorkerProcess(env=env)
    if worker.env.get("REDIS_URL"):
        worker.purge()
    course_id = int(worker.manage("shell", "-c", SETUP).split()[-1])

    def call(code: str) -> None:
        worker.manage("shell", "-c", CALL.format(call=code.format(course=course_id)))

    worker.start()
    try:
        call(
            f"requests.repository_analyze_request(user=user, course_id={{course}}, "
            f"repo_url={str(repo)!r})"
        )
        assert _wait_stage(worker, 1)[0] == "SUCCESS"
        call(
            "requests.stage1_selection_save(user=user, course_id={course}, "
            "selected_folders=['docs'], overview_document='README.md', excluded_documents=[])"
        )
        call(
            "requests.documents_analyze_request(user=user, course_id={course}, "
            "complexity_level='beginner', additional_info='')"
        )
        deadline = time.monotonic() + 120
        while not _query(worker, "SELECT id FROM imports_analyzeddocument"):
            assert time.monotonic() < deadline, worker.log()[-3000:]
            time.sleep(0.2)
    finally:
        worker.stop(kill=True)
    done_before = len(_query(worker, "SELECT id FROM imports_analyzeddocument"))
    assert _stages(worker)[2][0] == "STARTED" and done_before < 5
    worker.start()  # a restarted (or any other) worker
    try:
        assert _wait_stage(worker, 2, timeout=180)[:2] == ("SUCCESS", 100)
    finally:
        worker.stop()
    attempts, metadata = _query(
        worker, "SELECT attempts, metadata FROM imports_stagetask WHERE stage = 2"
    )[0]
    assert attempts == 2
    assert json.loads(metadata)["resumed"] == done_before
    assert len(_query(worker, "SELECT id FROM imports_analyzeddocument")) == 5
    streaming = _query(worker, "SELECT id FROM ai_chat_aimessage WHERE status = 'streaming'")
    assert streaming == []  # the dead attempt's message was marked interrupted, not left
