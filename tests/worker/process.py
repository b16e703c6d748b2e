"""A real Celery worker process (`celery -A config worker`) for tests, beside a live server.

The worker reads the same environment a server would (`tests.e2e.server.server_env`): its own
SQLite file, and a broker that is Redis when the test run has `REDIS_URL`, else the embedded
filesystem broker in a folder beside that database. Give a `LiveServer` and a `WorkerProcess`
the same `env` and they share the database and the broker, as `make run` does.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.server import ROOT, server_env

QUEUES = "ai_processing,repo_analysis"


def worker_env(db_path: Path, **extra: str) -> dict[str, str]:
    """A server's environment, keeping the run's `REDIS_URL` (CI's second run) as the broker."""
    env = server_env(db_path, **extra)
    if os.environ.get("REDIS_URL") and "REDIS_URL" not in extra:
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


@dataclass
class WorkerProcess:
    """One `celery -A config worker` child process; its log is a file (`log()`)."""

    env: dict[str, str]
    queues: str = QUEUES
    node: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:8]}@%h")
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        db = Path(self.env["DATABASE_URL"].removeprefix("sqlite:///"))
        return db.parent / f"worker-{self.node.split('@')[0]}.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def manage(self, *args: str, timeout: float = 60) -> str:
        """Run a management command with the worker's environment; return its stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode:
            raise AssertionError(f"manage.py {args} failed: {result.stderr[-2000:]}")
        return result.stdout

    def purge(self) -> None:
        """Drop messages earlier tests left in the queues (Redis outlives a test)."""
        subprocess.run(
            [sys.executable, "-m", "celery", "-A", "config", "purge", "-f", "-Q", self.queues],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            check=True,
            timeout=60,
        )

    def start(self, *, timeout: float = 60) -> "WorkerProcess":
        """Start the worker and return once it logs `ready` (it consumes from then on)."""
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queues,
                   "-n", self.node, "-l", "INFO", "--without-gossip", "--without-mingle",
                   *self.extra_args]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log()[-3000:]}")
            if " ready." in self.log():
                return self
            time.sleep(0.1)
        self.stop(kill=True)
        raise RuntimeError(f"worker not ready within {timeout:g} s: {self.log()[-3000:]}")

    def stop(self, *, kill: bool = False, timeout: float = 30) -> int | None:
        """SIGTERM (warm shutdown: running tasks finish) or SIGKILL; return the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
