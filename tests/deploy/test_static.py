"""Production serves its static files: the Procfile's web command with DEBUG off (WhiteNoise)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from config.launch import procfile_read
from tests.e2e.server import ROOT, free_port, server_env

pytestmark = pytest.mark.timeout(300)


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = server_env(
        tmp_path / "db.sqlite3",
        DEBUG="false",
        SECRET_KEY="a-production-secret-for-this-test-" + "k" * 30,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(tmp_path / "static"),
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _wait_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"server not listening: {log.read_text()[-3000:]}")


def test_the_production_web_command_serves_admin_css_and_the_pages_javascript(tmp_path):
    env = _production_env(tmp_path)
    # As the image's build does (Dockerfile).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env={**env, "DEBUG": "true"},
        check=True,
        timeout=120,
    )
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        web = subprocess.Popen(
            ["/bin/sh", "-c", procfile_read()["web"]],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_listening(web, int(env["PORT"]), log)
        base = f"http://127.0.0.1:{env['PORT']}"
        css = requests.get(f"{base}/static/admin/css/base.css", timeout=10)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        assert "body" in css.text
        js = requests.get(
            f"{base}/static/ai_chat/playground.js",
            headers={"Accept-Encoding": "gzip"},
            timeout=10,
        )
        assert js.status_code == 200 and "javascript" in js.headers["Content-Type"]
        assert js.headers.get("Content-Encoding") == "gzip"  # the compressed copy
        assert "import" in js.text
        login = requests.get(f"{base}/admin/login/", timeout=10)
        assert login.status_code == 200 and "/static/admin/css/" in login.text
        missing = requests.get(f"{base}/static/ai_chat/nothing-here.js", timeout=10)
        assert missing.status_code == 404
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
