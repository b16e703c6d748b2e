"""Start a real ASGI server (daphne or uvicorn) for end-to-end tests and benchmarks.

Only what cannot run here is redirected, from environment variables the tests set: where
firebase-admin fetches certificates and looks up users (the tests' fake speaks the real
protocol). Usage: python -m tests.e2e.serve daphne|uvicorn|web PORT

`web` is the production command (`python -m config.web`: uvicorn, WEB_CONCURRENCY processes);
its processes are spawned, and import this module again, which redirects Firebase in each.
"""

import os
import sys


def _redirect_firebase() -> None:
    certs = os.environ.get("LECTERN_TEST_FIREBASE_CERTS_URL")
    toolkit = os.environ.get("LECTERN_TEST_FIREBASE_TOOLKIT_URL")
    if certs:
        from firebase_admin import _token_gen

        _token_gen.ID_TOKEN_CERT_URI = certs
    if toolkit:
        from firebase_admin import _user_mgt

        _user_mgt.UserManager.ID_TOOLKIT_URL = toolkit


def main() -> None:
    server, port = sys.argv[1], sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if server == "web":
        from config import web

        os.environ.update(HOST="127.0.0.1", PORT=port)
        web.main()
    elif server == "daphne":
        from daphne.cli import CommandLineInterface
        from django.conf import settings

        CommandLineInterface().run(
            [
                "-b", "127.0.0.1", "-p", port,
                "--websocket-max-message-size", str(settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE),
                "--websocket-max-frame-size", str(settings.DAPHNE_WEBSOCKET_MAX_FRAME_SIZE),
                "config.asgi:application",
            ]
        )  # fmt: skip
    elif server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "config.asgi:application",
            host="127.0.0.1",
            port=int(port),
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            log_level="warning",
            lifespan="off",
        )
    else:
        raise SystemExit(f"unknown server {server!r}")


def _count_tasks_to(path: str) -> None:
    """Benchmarks (bench/soak.py): append `pid count` of this process's unfinished asyncio tasks
    to `path` every 5 s, from a thread (the count is taken from asyncio's registry)."""
    import asyncio
    import threading
    import time

    def run() -> None:
        while True:
            time.sleep(5)
            try:
                tasks = [t for t in list(asyncio.tasks._scheduled_tasks) if not t.done()]
            except RuntimeError:  # the registry changed while copied: next time
                continue
            with open(path, "a") as out:
                out.write(f"{os.getpid()} {len(tasks)}\n")

    threading.Thread(target=run, name="task-count", daemon=True).start()


# Here, not in main(): a `web` process is spawned and imports this module as its main module.
_redirect_firebase()
if os.environ.get("LECTERN_BENCH_TASKS_FILE"):
    _count_tasks_to(os.environ["LECTERN_BENCH_TASKS_FILE"])

if __name__ == "__main__":
    main()
