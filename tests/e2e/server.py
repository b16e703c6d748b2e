"""A real server process on a free port, with its own database, for end-to-end tests."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A daphne (or uvicorn) process serving `config.asgi` on 127.0.0.1."""

    env: dict[str, str]
    server: str = "daphne"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        """Run a management command against this server's database; return its stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    @property
    def log_path(self) -> Path:
        return Path(tempfile.gettempdir()) / f"lectern-e2e-{self.port}.log"

    def log(self) -> str:
        """What the server wrote to stderr (a file: a pipe nobody reads would block it)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> "LiveServer":
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.serve", self.server, str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()[-2000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise RuntimeError("server did not start within 30 s")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


POSTGRES = "postgres://postgres@127.0.0.1:5432"


def fresh_postgres_database(name: str) -> str | None:
    """The URL of a new, empty PostgreSQL database `name` on 127.0.0.1:5432 (dropped first if
    it exists), or None when PostgreSQL is not running there."""
    try:
        import psycopg

        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
    except Exception:
        return None
    return f"{POSTGRES}/{name}"


def server_env(db_path: Path, **extra: str) -> dict[str, str]:
    """Environment of a test server: its own SQLite file, the offline provider, DEBUG on."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_URL", "GEMINI_", "AI_PROVIDER"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{db_path}",
        DEBUG="true",
        AI_PROVIDER="offline",
        OFFLINE_CHUNK_DELAY_MS="5",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_live_server(
    tmp_dir: Path, *, server: str = "daphne", migrate: bool = True, **env: str
) -> LiveServer:
    db_path = tmp_dir / "e2e.sqlite3"
    live = LiveServer(env=server_env(db_path, **env), server=server)
    if migrate:
        live.manage("migrate", "--no-input", "-v0")
    return live.start()


def create_user(live: LiveServer, username: str, password: str, *, staff: bool = False) -> int:
    """Create a user in the server's database; return its id."""
    code = (
        "from django.contrib.auth import get_user_model;"
        f"u=get_user_model().objects.create_user({username!r}, {username + '@example.com'!r}, "
        f"{password!r}, is_staff={staff}, is_superuser={staff});print(u.pk)"
    )
    return int(live.shell(code).strip().splitlines()[-1])


def session_cookie(live: LiveServer, username: str, password: str) -> str:
    """Sign in through the login form; return the `Cookie` header value to send."""
    import re

    import requests

    session = requests.Session()
    page = session.get(f"{live.url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{live.url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{live.url}/accounts/login/"},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)
