"""Celery's settings (the `CELERY_` namespace), from the environment; star-imported by settings.

The broker is Redis with `CELERY_BROKER_URL` or `REDIS_URL`, else kombu's `filesystem://`
transport in a folder beside the SQLite database (no server needed; development only).

How the numbers relate (Redis): a message is invisible to other workers from the moment a
worker takes it until `CELERY_BROKER_VISIBILITY_TIMEOUT`; a task still running then is
delivered again, in parallel. So the timeout must exceed the hard time limit (checked below),
and a killed worker's late-acked message comes back after that timeout plus one restore sweep
(`unacked_restore_interval` seconds with `unacked_restore_throttle` 1). Job rows hold a lease
that notices a dead worker much sooner; the broker timeout is the backstop.
"""

from pathlib import Path
from typing import Any

import dj_database_url

from config.env import ImproperlyConfiguredEnv, env_bool, env_float, env_int, env_str

_ROOT = Path(__file__).resolve().parent.parent
AI_QUEUE = "ai_processing"  # generations: lessons, modules
REPO_QUEUE = "repo_analysis"  # repository imports


def _database_folder() -> Path:
    """Where the SQLite database lives (the project root for any other database)."""
    url = env_str("DATABASE_URL", f"sqlite:///{_ROOT / 'db.sqlite3'}")
    name = str(dj_database_url.parse(url).get("NAME") or "")
    if url.startswith("sqlite") and name and ":memory:" not in name:
        return Path(name).resolve().parent
    return _ROOT


CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", env_str("REDIS_URL")) or "filesystem://localhost//"
BROKER_FOLDER = Path(env_str("CELERY_BROKER_FOLDER", str(_database_folder() / "var" / "celery")))
BROKER_IS_FILESYSTEM = CELERY_BROKER_URL.startswith("filesystem://")

# Hard limit: the pool kills a prefork child past it (the threads pool cannot: tasks bound
# their own work with asyncio.timeout from the same number). Soft limit: the task is told first.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 840, minimum=1)
# Redis only: twice the hard limit, so no running task is ever delivered a second time.
_VISIBILITY_TIMEOUT = env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 1800, minimum=1)
_SOCKET_TIMEOUT = env_float("CELERY_BROKER_SOCKET_TIMEOUT", 5.0)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfiguredEnv("CELERY_TASK_SOFT_TIME_LIMIT must be below the hard limit")
if _VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfiguredEnv(
        "CELERY_BROKER_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT: a task still "
        "running when it expires is delivered to another worker again"
    )

if BROKER_IS_FILESYSTEM:
    # One folder for every process: each takes a message by renaming its file into
    # `processed/` (atomic on one filesystem, so two workers never take the same one).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "control_folder": str(BROKER_FOLDER / "control"),
        "store_processed": True,
        "processed_folder": str(BROKER_FOLDER / "processed"),
        "polling_interval": 0.5,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _VISIBILITY_TIMEOUT,
        # Look for a dead worker's unacknowledged messages every 10 s, not every 100 s.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        "socket_timeout": _SOCKET_TIMEOUT,
        "socket_connect_timeout": _SOCKET_TIMEOUT,
        "socket_keepalive": True,
        "retry_on_timeout": True,
        "health_check_interval": 25,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = _SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# None: a worker keeps reconnecting to a broker that is down (it is useless without one).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Job state lives in Lectern's tables: no result backend, no results stored.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True

# Acknowledge after the task ran; a worker lost mid-task gives the message back. With a pool
# child lost, 5.7 sends it again as a retry instead, bounded by the task's `max_retries`.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_RETRY_ON_WORKER_LOST = True
# A worker takes one message per free slot, so a crash strands at most that many.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Late-acked tasks whose broker connection was lost will be delivered again: stop them.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# `threads`: generations wait on the model, not the CPU, so one process holds many at once.
CELERY_WORKER_POOL = env_str("CELERY_WORKER_POOL", "threads")
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 10, minimum=1)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # Django's LOGGING formats and redacts every line
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("CELERY_WORKER_SEND_TASK_EVENTS", False)  # Flower

# Work for the model and work on repositories never wait behind each other. Routed by the
# task's module; anything else goes to the AI queue (a worker always listens there).
CELERY_TASK_DEFAULT_QUEUE = AI_QUEUE
# An import's stages 2 to 4 wait on the model, not the repository: named before the glob.
# Routed here, not with `queue=` on the task (deprecated in Celery 5, gone in 6).
CELERY_TASK_ROUTES = {
    "jobs.*": {"queue": AI_QUEUE},
    "imports.tasks.document_analyser_task": {"queue": AI_QUEUE},
    "imports.tasks.learning_pathway_task": {"queue": AI_QUEUE},
    "imports.tasks.modules_generation_task": {"queue": AI_QUEUE},
    "imports.tasks.*": {"queue": REPO_QUEUE},
}
WORKER_QUEUES = f"{AI_QUEUE},{REPO_QUEUE}"  # what `worker` in the Procfile consumes
