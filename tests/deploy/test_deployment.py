"""The deployment files stay true to the code: Procfile, Dockerfile, compose, the examples."""

import json
import re
import shlex
import shutil
import subprocess
import sys

from config.launch import procfile_read
from tests.e2e.server import ROOT

COMPOSE = (ROOT / "docker-compose.yml").read_text()


def test_the_procfile_names_web_and_worker_and_each_program_exists():
    processes = procfile_read()
    assert list(processes) == ["web", "worker"]
    bin_dir = ROOT / ".venv" / "bin"
    for command in processes.values():
        for step in command.split("&&"):
            words = shlex.split(step.replace("exec ", "", 1))
            program = shutil.which(words[0], path=f"{bin_dir}:/usr/bin:/bin")
            assert program or words[0] == "python", words[0]
            if words[0] == "python" and words[1] == "-m":
                assert (ROOT / (words[2].replace(".", "/") + ".py")).exists(), words[2]
            elif words[0] == "python":
                assert (ROOT / words[1]).exists()
    assert processes["web"].endswith("exec python -m config.web")  # HOST, PORT, WEB_CONCURRENCY
    assert "-Q ai_processing,repo_analysis" in processes["worker"]


def test_the_image_and_compose_run_the_procfile_commands():
    processes = procfile_read()
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE).group(1))
    assert cmd == ["sh", "-c", processes["web"]]
    worker = re.search(r"\n  worker:\n(.*?)\n\n", COMPOSE, re.S).group(1)
    command = json.loads(re.search(r"command: (\[.*\])", worker).group(1))
    assert command == shlex.split(processes["worker"])


def test_the_image_runs_as_an_unprivileged_user_and_collects_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "collectstatic" in dockerfile


def test_the_image_has_git_for_repository_imports():
    """The worker's stage 1 runs the git CLI (imports/repository/): the image installs it."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"apt-get install -y --no-install-recommends git\b", dockerfile)


def test_compose_has_a_worker_and_flower_behind_the_monitoring_profile():
    flower = re.search(r"\n  flower:\n(.*?)\n\n", COMPOSE, re.S).group(1)
    assert "profiles: [monitoring]" in flower
    assert "127.0.0.1:5555:5555" in flower
    assert "env_file" not in flower and "SECRET_KEY" not in flower  # a third-party image
    assert COMPOSE.count("env_file: .env.production") == 1  # the anchor web and worker share
    assert "docker compose run --rm web python manage.py createsuperuser" in COMPOSE


def test_the_production_example_is_refused_until_its_secret_is_changed(tmp_path):
    """DEBUG off with the example's placeholder: the server's start-up check refuses."""
    example = (ROOT / ".env.production.example").read_text()
    values = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, re.MULTILINE))
    assert values["DEBUG"] == "false"
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **values,
    }
    code = "import config.asgi"
    refused = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "lectern.E001" in refused.stderr
    env["SECRET_KEY"] = "a-real-secret-" + "x" * 40
    accepted = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert accepted.returncode == 0, accepted.stderr[-2000:]


def test_compose_file_is_valid(tmp_path):
    """Debian's docker-compose (`.ci/run` installs it) parses the file with every profile."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.production.example", tmp_path / ".env.production")
    result = subprocess.run(
        ["docker-compose", "--profile", "monitoring", "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
