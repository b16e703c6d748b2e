"""`python -m config.web`: the production web server, the Procfile's `web` after `migrate`.

uvicorn serving `config.asgi`, one process per core behind one port (`--workers`: the parent
binds the port and supervises the processes, restarting one that dies), with the WebSocket
options the benchmarks chose (bench/README.md): the sans-I/O `websockets` implementation and no
permessage-deflate (about 37 KiB more per socket, and compression CPU per frame).

How many processes: `WEB_CONCURRENCY`; unset (0), one per core available to this process when
`REDIS_URL` is set and the database is PostgreSQL, else one. Several processes need Redis:
without it the rate limits, connection counts, stream logs for `resume` and the channel layer
live in each process, so a client's next socket would land in another world. `make run` (no
Redis) therefore serves with one process; asking for more without Redis is refused with a
sentence saying why.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import uvicorn

# On SIGTERM, open sockets are closed (1012, "service restart": clients reconnect) and requests
# finish within this long. A generation still running is marked `interrupted` by another
# process's sweep (ai_chat/services/workers.py), its reservation given back.
GRACEFUL_SHUTDOWN_SECONDS = 10


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def web_processes(requested: int, redis_url: str | None, *, sqlite: bool = False) -> int:
    """How many server processes to run; `SystemExit` when more than one lacks Redis. Unset,
    one on SQLite too: processes writing one SQLite file at once fail each other's
    read-then-write transactions ("database is locked") under load."""
    count = requested or (available_cores() if redis_url and not sqlite else 1)
    if count > 1 and not redis_url:
        raise SystemExit(
            f"WEB_CONCURRENCY={count} needs REDIS_URL: limits, connection counts, `resume` and "
            "events are per process without Redis. Set REDIS_URL, or WEB_CONCURRENCY=1."
        )
    return count


def share_metrics(processes: int) -> Path | None:
    """Several processes answer /metrics through one port: each scrape reaches one of them, so
    they keep their values in PROMETHEUS_MULTIPROC_DIR and any of them answers for all
    (docs/monitoring.md). Unset, a fresh directory is made (and returned, to remove at exit);
    set, it is emptied, as prometheus_client requires when the whole service starts."""
    if processes == 1:
        return None
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        for stale in Path(configured).glob("*.db"):
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="lectern-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)  # the processes inherit it
    return made


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    processes = web_processes(settings.WEB_CONCURRENCY, settings.REDIS_URL, sqlite=sqlite)
    host, port = os.environ.get("HOST") or "0.0.0.0", int(os.environ.get("PORT") or 8000)
    print(f"lectern web: {processes} process(es) on {host}:{port}", file=sys.stderr, flush=True)
    made = share_metrics(processes)
    try:
        serve(host, port, processes)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def serve(host: str, port: int, processes: int) -> None:
    from django.conf import settings

    uvicorn.run(
        "config.asgi:application",
        host=host,
        port=port,
        workers=processes,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE,  # the one limit, whichever server
        lifespan="off",  # Channels' router has no lifespan protocol
        proxy_headers=False,  # sockets.addresses reads X-Forwarded-For from TRUSTED_PROXIES
        server_header=False,
        log_level=os.environ.get("LOG_LEVEL", "INFO").lower(),  # as settings.LOGGING
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


if __name__ == "__main__":
    main()
