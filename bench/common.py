"""What every benchmark shares: servers in their own processes, users, sampling, tables.

Servers under test are separate processes: the real one is `python -m tests.e2e.serve daphne|
uvicorn PORT` (the same entry point the end-to-end tests use) with its own database and
environment; the baseline is `python -m bench.baseline`. The load generator is another process
(`python -m bench.loadgen`), so the client never shares an event loop or a GIL with the server.
The orchestrating process only starts things and samples /proc.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.upstream import Upstream  # noqa: E402
from tests.e2e.server import free_port, server_env  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
COURSE_PATH = "/ws/ai/course-generation/"
# "Java for kids" renders a 2001-character course placeholder: 201 chunks of 10 characters.
COURSE_CONTENT = "Java for kids"
CHUNK_SIZE = 10
REDIS_URL = "redis://127.0.0.1:6379/0"
# The production web command's servers (`web1`, `web2`: config/web.py with WEB_CONCURRENCY 1 or
# 2) share this Redis database, flushed before each starts (--web-redis-url to change it).
WEB_REDIS_URL = os.environ.get("LECTERN_BENCH_WEB_REDIS_URL", "redis://127.0.0.1:6379/6")
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"

# One key per benchmark run: sessions made by `manage.py shell` must verify in every server.
BENCH_SECRET_KEY = "bench-" + secrets.token_hex(24)
# Limits raised so that the server's protections are not what is measured.
BENCH_LIMITS = {
    "RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
    # bench.fanout subscribes every socket as one user: far over the /ws/events/ budget.
    "EVENTS_RATE_LIMIT_PER_MINUTE": "1000000",
    "MAX_CONCURRENT_GENERATIONS": "1000000",
    "MAX_CONNECTIONS_PER_USER": "1000000",
    "DAILY_TOKEN_BUDGET": str(10**15),
    "AUTH_TIMEOUT_SECONDS": "60",
}


def raise_nofile(target: int = 1 << 20) -> int:
    """Raise this process's open-file limit as far as the hard limit allows (children inherit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- /proc ----------------------------------------------------------------------------------


def proc_tree(pid: int) -> list[int]:
    """A process and its descendants (the server processes `config.web` starts)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (all threads), in seconds."""
    total = 0
    for member in proc_tree(pid):
        try:
            with open(f"/proc/{member}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            if member == pid:
                raise
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU time all CPUs spent busy (user, nice, system, irq, softirq, steal), in seconds."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def proc_rss_kb(pid: int) -> int:
    """VmRSS of a process and its descendants, in KiB."""
    total = 0
    for member in proc_tree(pid):
        try:
            with open(f"/proc/{member}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            if member == pid:
                raise
    return total


def proc_threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


class Sampler:
    """Samples a process's CPU time and RSS at 10 Hz in a thread, for windows given later."""

    def __init__(self, pid: int, period: float = 0.1) -> None:
        self.pid = pid
        self.period = period
        self.samples: list[tuple[float, float, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(
                    (
                        time.monotonic(),
                        proc_cpu_seconds(self.pid),
                        proc_rss_kb(self.pid),
                        machine_busy_seconds(),
                    )
                )
            except (FileNotFoundError, ProcessLookupError, ValueError):
                return
            self._stop.wait(self.period)

    def cores(self, start: float, end: float, column: int = 1) -> float:
        """Average CPU use (1.0 = one core) between two monotonic times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return float("nan")
        return (inside[-1][column] - inside[0][column]) / (inside[-1][0] - inside[0][0])

    def machine_cores(self, start: float, end: float) -> float:
        """Average busy CPUs of the whole machine (server, client and everything else)."""
        return self.cores(start, end, column=3)

    def peak_rss_mb(self) -> float:
        return max((s[2] for s in self.samples), default=0) / 1024


# --- servers --------------------------------------------------------------------------------


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


@dataclass
class Server:
    """One server process (real or baseline). Its stderr goes to a file, never an unread pipe."""

    name: str
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # The model server this one reads (provider mode gemini), stopped with it.
    upstream: Upstream | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}-{self.port}.log"

    def start(self) -> Server:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*self.argv, str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            _wait_port(self.port, self.process, self.log_path)
        except BaseException:  # never leave a server that did not come up running
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the process (if it runs) and print a summary of any errors it logged."""
        if self.upstream is not None:
            self.upstream.stop()
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        errors = self.errors()
        if errors:
            print(f"  {self.name}:{self.port} logged errors:\n{errors}", flush=True)

    def rss_kb(self) -> int:
        return proc_rss_kb(self.pid)

    def errors(self) -> str:
        """A short summary of the tracebacks and errors the server logged, else ''."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        bad = [
            line for line in text.splitlines()
            if "Traceback" in line or " ERROR " in line or '"level": "ERROR"' in line
        ]  # fmt: skip
        if not bad:
            return ""
        shown = "\n".join(f"    {line[:240]}" for line in bad[-3:])
        return f"  {len(bad)} error lines in {self.log_path.name}; last ones:\n{shown}"

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed: {result.stderr[-2000:]}")
        return result.stdout


class Workdir:
    """A temporary directory for databases and logs, removed on exit unless --keep.

    It lives in /dev/shm (memory) by default, so that SQLite's fsyncs do not add this VM's disk
    latency to the WebSocket numbers; `on_disk=True` puts it under the system temp directory.
    """

    def __init__(self, keep: bool = False, *, on_disk: bool = False) -> None:
        base = None if on_disk or not Path("/dev/shm").is_dir() else "/dev/shm"
        self.path = Path(tempfile.mkdtemp(prefix="lectern-bench-", dir=base))
        self.keep = keep

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self.keep:
            print(f"(kept {self.path})")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def real_server(
    kind: str,
    workdir: Path,
    *,
    database_url: str | None = None,
    migrate: bool = True,
    **env: str,
) -> Server:
    """A daphne or uvicorn process serving config.asgi; not started yet (call .start()).

    `web1`, `web2`, ...: the production command (`python -m config.web`, uvicorn) with that
    many processes behind one port, sharing WEB_REDIS_URL (flushed here) for limits, connection
    counts, stream logs and events."""
    db_url = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if kind.startswith("web"):
        import redis

        redis_url = env.pop("REDIS_URL", WEB_REDIS_URL)
        redis.Redis.from_url(redis_url).flushdb()
        env = {"WEB_CONCURRENCY": kind[3:] or "0", "REDIS_URL": redis_url, **env}
    values = server_env(workdir / "unused.sqlite3")
    values.update(
        DATABASE_URL=db_url,
        DEBUG="false",
        SECRET_KEY=BENCH_SECRET_KEY,
        LOG_LEVEL="WARNING",
        OFFLINE_CHUNK_SIZE=str(CHUNK_SIZE),
        OFFLINE_CHUNK_DELAY_MS="20",
        **BENCH_LIMITS,
    )
    values.update(env)
    serve = "web" if kind.startswith("web") else kind
    server = Server(kind, [PYTHON, "-m", "tests.e2e.serve", serve], values, workdir)
    if migrate:
        server.manage("migrate", "--no-input", "-v0")
    return server


def baseline_server(
    workdir: Path,
    *,
    chunk_size: int = CHUNK_SIZE,
    delay_ms: int = 20,
    compression: str = "deflate",
    upstream: str | None = None,
) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", PYTHONUNBUFFERED="1")
    argv = [
        PYTHON,
        "-m",
        "bench.baseline",
        "--chunk-size",
        str(chunk_size),
        "--delay-ms",
        str(delay_ms),
        "--compression",
        compression,
        *(["--upstream", upstream] if upstream else []),
        "--port",
    ]
    return Server("baseline", argv, env, workdir)


def make_sessions(server: Server, users: int, prefix: str = "bench") -> list[str]:
    """Create `users` users and one signed-in session each; return their Cookie header values.

    Sessions are made with Django's test client `force_login` (no password hashing), which is
    what the login form would leave in the session table.
    """
    code = (
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "from django.conf import settings\n"
        "User = get_user_model()\n"
        "out = []\n"
        f"for i in range({users}):\n"
        f"    user, _ = User.objects.get_or_create(username='{prefix}%d' % i,"
        f" defaults={{'email': '{prefix}%d@example.com' % i}})\n"
        "    client = Client()\n"
        "    client.force_login(user)\n"
        "    name = settings.SESSION_COOKIE_NAME\n"
        "    out.append('%s=%s' % (name, client.cookies[name].value))\n"
        "print(json.dumps(out))\n"
    )
    return json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])


class Database:
    """The DATABASE_URL of a benchmark: SQLite in the work directory, or a fresh PostgreSQL db."""

    def __init__(self, choice: str, workdir: Path) -> None:
        self.choice = choice
        self.name = f"lectern_bench_{os.getpid()}_{secrets.token_hex(3)}"
        if choice == "postgres":
            self.url = create_postgres_db(self.name)
        else:
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        if self.choice == "postgres":
            drop_postgres_db(self.name)


def create_postgres_db(name: str) -> str:
    """Create a PostgreSQL database on 127.0.0.1:5432; return its URL."""
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_db(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


def redis_available(url: str = REDIS_URL) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def add_common_args(parser: Any) -> None:
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="SQLite file in the work directory, or a fresh PostgreSQL database on 127.0.0.1:5432",
    )
    parser.add_argument(
        "--on-disk",
        action="store_true",
        help="work directory (SQLite, logs) on disk instead of /dev/shm",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="DATABASE_CONN_MAX_AGE for the servers (unset: the project "
        "default, 0 = a new database connection per call)",
    )
    parser.add_argument(
        "--database-pool",
        action="store_true",
        help="DATABASE_POOL=true for the servers (PostgreSQL only: a psycopg pool per process)",
    )


def add_provider_args(parser: Any) -> None:
    parser.add_argument(
        "--provider",
        choices=["offline", "gemini"],
        default="offline",
        help="offline: the offline provider paces the course itself; gemini: the servers read "
        "it from a fake Gemini server (its own process) pacing the same chunks like a model, "
        "Lectern through AI_PROVIDER=gemini, the baseline with a bare asyncio + json reader",
    )
    parser.add_argument(
        "--gemini-reader",
        choices=["lean", "sdk"],
        default="lean",
        help="GEMINI_READER for the real servers in --provider gemini (sdk: google-genai's types)",
    )


def gemini_upstream(workdir: Path, args: Any, delay_ms: int) -> Upstream:
    """The fake Gemini server for one server under test: the course in --chunk-size chunks."""
    return Upstream(
        "gemini",
        *("--course", COURSE_CONTENT, "--chunk-size", str(args.chunk_size)),
        *("--pause-ms", str(delay_ms)),
        log=workdir / "upstream.log",
    )


def gemini_env(upstream: Upstream, reader: str = "lean") -> dict[str, str]:
    """A real server's settings to read `upstream` as its (only) provider."""
    return {
        "GEMINI_READER": reader,
        "AI_PROVIDER": "gemini",
        "AI_PROVIDERS": "",
        "GEMINI_API_KEY": "bench-key",
        "GEMINI_MODEL": "gemini-bench",
        "GEMINI_BASE_URL": upstream.url,
        "GEMINI_TIMEOUT_SECONDS": "120",
        "GEMINI_STALL_SECONDS": "120",
    }


def server_overrides(args: Any) -> dict[str, str]:
    """Environment the command line adds to every real server."""
    overrides = {}
    if getattr(args, "conn_max_age", None) is not None:
        overrides["DATABASE_CONN_MAX_AGE"] = str(args.conn_max_age)
    if getattr(args, "database_pool", False):
        overrides["DATABASE_POOL"] = "true"
    return overrides


def start_generation_server(
    name: str, workdir: Path, args: Any, *, delay_ms: int
) -> tuple[Server, list[str]]:
    """The baseline or a real server (`name`) streaming the course placeholder in
    `args.chunk_size` chunks, `delay_ms` apart; started, with session cookies to connect with.
    With `--provider gemini` the chunks come from a fake Gemini server of its own, paced so."""
    upstream = None
    if getattr(args, "provider", "offline") == "gemini":
        upstream = gemini_upstream(workdir, args, delay_ms)
    try:
        if name == "baseline":
            server = baseline_server(
                workdir,
                chunk_size=args.chunk_size,
                delay_ms=delay_ms,
                upstream=upstream.url if upstream else None,
            )
            server.upstream = upstream
            return server.start(), ["sessionid=baseline"]
        server = real_server(
            name,
            workdir,
            database_url=args.database_url,
            OFFLINE_CHUNK_SIZE=str(args.chunk_size),
            OFFLINE_CHUNK_DELAY_MS=str(delay_ms),
            **(gemini_env(upstream, args.gemini_reader) if upstream else {}),
            **server_overrides(args),
        )
        server.upstream = upstream
        cookies = make_sessions(server, args.users)
        return server.start(), cookies
    except BaseException:
        if upstream is not None:
            upstream.stop()
        raise


# --- the load generator process --------------------------------------------------------------


def run_client(workload: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one load-generator process to completion; return the JSON it printed last."""
    result = subprocess.run(
        [PYTHON, "-m", "bench.loadgen", workload, json.dumps(params)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"load generator failed: {result.stderr[-3000:]}")
    return json.loads(lines[-1])


def run_clients(
    workload: str, params_list: Sequence[dict[str, Any]], timeout: float
) -> list[dict[str, Any]]:
    """Run several load-generator processes at once (for more client CPU); wait for all."""
    procs = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.loadgen", workload, json.dumps(params)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for params in params_list
    ]
    results = []
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"load generator failed: {err[-3000:]}")
        results.append(json.loads(lines[-1]))
    return results


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    return [list(items[i::parts]) for i in range(parts)]


# --- numbers and tables ---------------------------------------------------------------------


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Print (and return) a Markdown table, so that it can be pasted into the README."""
    cells = [[fmt(c) for c in row] for row in rows]
    lines = [f"\n### {title}\n", "| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join(" --- " for _ in headers) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def machine_note() -> str:
    cpus = os.cpu_count()
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"{cpus} CPUs, {mem_kb / 1024 / 1024:.0f} GiB, Python {sys.version.split()[0]}"
