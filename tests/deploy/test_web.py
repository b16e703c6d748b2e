"""The production web command (config/web.py): how many processes, and refusing a setup that
would split per-process state."""

import pytest

from config import web
from config.startup import _checks_off_the_loop


def test_one_process_per_core_with_redis_and_postgresql_else_one():
    assert web.web_processes(0, "redis://127.0.0.1:6379/0") == web.available_cores()
    assert web.web_processes(0, None) == 1
    assert web.web_processes(3, "redis://127.0.0.1:6379/0") == 3
    assert web.web_processes(1, None) == 1
    assert web.web_processes(0, "redis://127.0.0.1:6379/0", sqlite=True) == 1


def test_several_processes_without_redis_are_refused_with_the_reason():
    with pytest.raises(SystemExit) as refused:
        web.web_processes(2, None)
    assert "WEB_CONCURRENCY=2 needs REDIS_URL" in str(refused.value)


def test_several_processes_share_their_metrics_through_one_directory(tmp_path, monkeypatch):
    """Each scrape of /metrics reaches one process: they keep values in one directory, made
    fresh (or emptied) when the server starts."""
    # Set, then deleted, through monkeypatch: its undo then removes the value share_metrics
    # writes into os.environ itself (a delenv of an absent name records nothing to undo, and
    # the deleted directory leaked into later tests' workers).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    assert web.share_metrics(1) is None
    made = web.share_metrics(2)
    assert made is not None and made.is_dir()
    import os

    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(made)
    made.rmdir()
    (tmp_path / "counter_1.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert web.share_metrics(2) is None
    assert list(tmp_path.glob("*.db")) == []


@pytest.mark.django_db(transaction=True)
def test_the_production_checks_run_where_uvicorn_imports_the_application():
    """uvicorn's worker processes import config.asgi inside their event loop, where Django
    refuses the checks' database queries: they run in a thread there and still report."""
    import asyncio

    async def on_the_loop() -> list[str]:
        # Whether a check queries here depends on the database (SQLite's do, and Django
        # refuses them on a loop); off the loop they run and report either way.
        return [message.id for message in _checks_off_the_loop()]

    assert "lectern.E001" in asyncio.run(on_the_loop())  # the tests' development SECRET_KEY
