"""Background lesson jobs: lessons per minute one worker process completes, pickup latency, memory.

A real `celery -A config worker` process (threads pool, concurrency N) generates lessons with the
offline provider paced like a model: the lesson placeholder in chunks of 4 characters (195
chunks), 20 ms apart, so about 3.9 s of streaming per lesson. For each N in `--inflight`, 3 x N
lessons are queued at once through the same service the API calls (`lesson_generate_request`),
and the run measures:

- lessons per minute: jobs finished / (last finish - first start); the ideal is N x 60 / 3.9;
- queue wait: job `started_at - created_at` (p50, p99), which includes waiting for a free slot;
- pickup: the same for jobs queued one at a time on an idle worker (`--pickup` jobs, with N=1),
  i.e. the time from the POST to the job running;
- the worker's peak RSS and average CPU.

    .venv/bin/python -m bench.jobs [--inflight 1,10,50] [--database sqlite|postgres]
                                   [--broker file|redis] [--redis-url URL] [--pickup 20] [--keep]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT, Database, Sampler, Workdir, server_env

CHUNK_DELAY_MS = 20
CHUNK_SIZE = 4
REDIS_URL = "redis://127.0.0.1:6379/7"
HEADER = (
    f"{'in flight':>9} {'jobs':>5} {'ok':>4} {'lessons/min':>12} {'ideal':>7} "
    f"{'wait p50 ms':>12} {'wait p99 ms':>12} {'peak RSS MB':>12} {'CPU cores':>10}"
)
ROW = (
    "{inflight:>9} {jobs:>5} {succeeded:>4} {per_minute:>12.1f} {ideal:>7.1f} "
    "{wait_p50:>12.0f} {wait_p99:>12.0f} {rss_mb:>12.1f} {cpu:>10.2f}"
)


def _environment(
    workdir: Path, database_url: str, broker: str, redis_url: str = REDIS_URL
) -> dict[str, str]:
    env = server_env(
        workdir / "unused.sqlite3",
        DATABASE_URL=database_url,
        CELERY_BROKER_FOLDER=str(workdir / "celery"),
        OFFLINE_CHUNK_DELAY_MS=str(CHUNK_DELAY_MS),
        OFFLINE_CHUNK_SIZE=str(CHUNK_SIZE),
        MAX_CONCURRENT_GENERATIONS="1000000",
        DAILY_TOKEN_BUDGET=str(10**15),
        LOG_FORMAT="plain",
        CELERY_WORKER_POOL="threads",
    )
    if broker == "redis":
        env["REDIS_URL"] = redis_url
    return env


class Worker:
    """One worker process with `concurrency` threads."""

    def __init__(self, env: dict[str, str], concurrency: int, log: Path) -> None:
        self.log = log
        command = [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", "ai_processing"]
        command += [
            "-P",
            "threads",
            "-c",
            str(concurrency),
            "-l",
            "INFO",
            "-n",
            f"b{concurrency}@%h",
        ]
        command += ["--without-gossip", "--without-mingle"]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while " ready." not in log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _setup() -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model

    from courses.models import Course, Module

    user = get_user_model().objects.create_user("bench", "bench@example.com", "pw")
    course = Course.objects.create(owner=user, title="Bench course", description="Jobs")
    module = Module.objects.create(course=course, position=0, title="Bench")
    return user, module


def _queue(user: Any, module: Any, count: int, start: int) -> list[int]:
    from jobs.services.requests import lesson_generate_request
    from lessons.models import Lesson

    lessons = [
        Lesson.objects.create(
            course=module.course, module=module, position=start + n, title=f"Lesson {start + n}"
        )
        for n in range(count)
    ]
    return [
        lesson_generate_request(user=user, lesson_id=lesson.pk, force=False).job.pk
        for lesson in lessons
    ]


def _wait(job_ids: list[int], timeout: float) -> list[Any]:
    from jobs.models import LessonJob

    deadline = time.monotonic() + timeout
    while True:
        jobs = list(LessonJob.objects.filter(pk__in=job_ids))
        if all(not job.is_active for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            states = sorted(job.status for job in jobs)
            raise RuntimeError(f"jobs not finished in {timeout:g} s: {states}")
        time.sleep(0.25)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _waits_ms(jobs: list[Any]) -> list[float]:
    return [(j.started_at - j.created_at).total_seconds() * 1000 for j in jobs if j.started_at]


def run_inflight(env: dict[str, str], workdir: Path, user: Any, module: Any, n: int, start: int):
    worker = Worker(env, n, workdir / f"worker-{n}.log")
    try:
        with Sampler(worker.process.pid) as sampler:
            began = time.monotonic()
            job_ids = _queue(user, module, 3 * n, start)
            jobs = _wait(job_ids, timeout=600)
            ended = time.monotonic()
    finally:
        worker.stop()
    ok = [j for j in jobs if j.status == "succeeded"]
    for job in jobs:
        if job.status != "succeeded":  # say why, so a row with a failure can be explained
            print(f"  job {job.pk}: {job.status} {job.error_code}: {job.error_message}")
    first = min(j.started_at for j in ok)
    last = max(j.finished_at for j in ok)
    span = (last - first).total_seconds()
    waits = _waits_ms(ok)
    return {
        "inflight": n,
        "jobs": len(jobs),
        "succeeded": len(ok),
        "per_minute": len(ok) / span * 60 if span else float("nan"),
        "ideal": n * 60 / (195 * CHUNK_DELAY_MS / 1000),
        "wait_p50": _percentile(waits, 0.5),
        "wait_p99": _percentile(waits, 0.99),
        "rss_mb": sampler.peak_rss_mb(),
        "cpu": sampler.cores(began, ended),
    }


def run_pickup(env: dict[str, str], workdir: Path, user: Any, module: Any, count: int, start: int):
    """Jobs queued one at a time on an idle worker: POST to running."""
    worker = Worker(env, 1, workdir / "worker-pickup.log")
    jobs = []
    try:
        for n in range(count):
            jobs += _wait(_queue(user, module, 1, start + n), timeout=120)
    finally:
        worker.stop()
    waits = _waits_ms(jobs)
    return _percentile(waits, 0.5), _percentile(waits, 0.99), statistics.mean(waits)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inflight", default="1,10,50")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--broker", choices=["file", "redis"], default="file")
    parser.add_argument("--pickup", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--redis-url", default=REDIS_URL, help="the Redis database of --broker redis (purged)"
    )
    args = parser.parse_args(argv)
    with Workdir(args.keep) as workdir, Database(args.database, workdir) as database_url:
        env = _environment(workdir, database_url, args.broker, args.redis_url)
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if args.broker == "redis":
            purge = [PYTHON, "-m", "celery", "-A", "config", "purge", "-f"]
            subprocess.run(purge, cwd=ROOT, env=env, capture_output=True, check=True)
        user, module = _setup()
        print(
            f"database {args.database}, broker {args.broker}, offline provider: 195 chunks "
            f"{CHUNK_DELAY_MS} ms apart (~3.9 s a lesson); one worker process, threads pool"
        )
        print(HEADER)
        start = 0
        for n in [int(x) for x in args.inflight.split(",")]:
            row = run_inflight(env, workdir, user, module, n, start)
            start += 3 * n
            print(ROW.format(**row))
            sys.stdout.flush()
        if args.pickup:
            p50, p99, mean = run_pickup(env, workdir, user, module, args.pickup, start)
            print(
                f"POST to running, idle worker, {args.pickup} jobs one at a time: "
                f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, mean {mean:.0f} ms"
            )


if __name__ == "__main__":
    main()
