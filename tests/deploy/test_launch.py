"""`make run`'s launcher (`python -m config.launch`): web and worker from one command."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.server import ROOT, free_port
from tests.worker.process import WorkerProcess, worker_env

pytestmark = pytest.mark.timeout(300)


def _launch(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "config.launch", "--setup"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_serving(launcher: subprocess.Popen, port: int, log: Path) -> dict[str, int]:
    """Wait for the web to answer and the worker to be ready; return the children's pids."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert launcher.poll() is None, log.read_text()[-3000:]
        text = log.read_text(errors="replace")
        try:
            ok = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        except requests.ConnectionError:
            ok = False
        if ok and " ready." in text:
            return {n: int(p) for n, p in re.findall(r"(\w+) \(pid (\d+)\)", text)}
        time.sleep(0.5)
    raise AssertionError(f"launcher not serving: {log.read_text()[-3000:]}")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def launch_env(tmp_path, migrated_sqlite):
    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    return worker_env(tmp_path / "db.sqlite3", HOST="127.0.0.1", PORT=str(free_port()))


def test_a_taken_port_fails_at_once_with_one_line(tmp_path):
    """Nothing starts (not even migrations): one line on stderr and exit status 1."""
    env = worker_env(tmp_path / "db.sqlite3", HOST="127.0.0.1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env["PORT"] = str(taken.getsockname()[1])
        result = subprocess.run(
            [sys.executable, "-m", "config.launch", "--setup"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"port {env['PORT']} on 127.0.0.1 is already in use" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


LESSON_JOB = """
import time
from django.contrib.auth import get_user_model
from courses.models import Course, Module
from lessons.models import Lesson
from jobs.services.requests import lesson_generate_request
owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw-owner-123")
course = Course.objects.create(owner=owner, title="Intro to Java", description="Java for kids")
module = Module.objects.create(course=course, position=0, title="Basics")
lesson = Lesson.objects.create(course=course, module=module, position=0, title="Variables")
outcome = lesson_generate_request(user=owner, lesson_id=lesson.pk, force=False)
deadline = time.monotonic() + 150
while time.monotonic() < deadline:
    lesson.refresh_from_db()
    if lesson.generation_status in ("completed", "failed"):
        break
    time.sleep(0.5)
outcome.job.refresh_from_db()
print(lesson.generation_status, outcome.job.status, bool(lesson.content))
"""


def test_the_launcher_runs_jobs_and_one_ctrl_c_stops_web_and_worker(tmp_path, launch_env):
    """A ping and a real lesson job (offline provider) run in the launcher's worker."""
    log = tmp_path / "launch.log"
    launcher = _launch(launch_env, log)
    try:
        pids = _wait_serving(launcher, int(launch_env["PORT"]), log)
        beside = WorkerProcess(env=launch_env)
        out = beside.manage("ping_worker", "--timeout", "60", timeout=90)
        assert "answered on ai_processing" in out
        lesson = beside.manage("shell", "-c", LESSON_JOB, timeout=240).split()[-3:]
        assert lesson == ["completed", "succeeded", "True"], log.read_text()[-3000:]
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert set(pids) == {"web", "worker"}
    assert all(_gone(pid) for pid in pids.values())
    assert _port_closed(int(launch_env["PORT"]))


def test_when_the_worker_dies_the_launcher_stops_the_web_and_fails(tmp_path, launch_env):
    log = tmp_path / "launch.log"
    launcher = _launch(launch_env, log)
    try:
        pids = _wait_serving(launcher, int(launch_env["PORT"]), log)
        os.kill(pids["worker"], signal.SIGKILL)
        assert launcher.wait(timeout=60) == 128 + signal.SIGKILL
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert "worker exited with status 137" in log.read_text()
    assert _gone(pids["web"]) and _port_closed(int(launch_env["PORT"]))
