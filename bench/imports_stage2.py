"""Stage 2 of a repository import: documents analysed per minute against the in-flight bound.

For each bound B in `--bounds`, in alternation, each variant runs in a fresh Python process:

- `baseline`: a bare asyncio loop with `asyncio.Semaphore(B)` streams one request per document
  from the same paced provider (Lectern's offline provider code, the `import_document`
  placeholder, `OFFLINE_CHUNK_DELAY_MS` / `OFFLINE_CHUNK_SIZE` as below) and parses the JSON:
  the least analysing `--docs` documents B at a time costs with this provider;
- `lectern`: Lectern's stage 2 on `--docs` seeded documents with `IMPORT_ANALYSIS_CONCURRENCY=B`
  (the task run in-process, as a worker thread runs it): the stored conversation and messages,
  validation, budget, progress steps and events, the analysis cache, the saved analyses. The
  cache is empty at the start; a second run (`cached`) queues stage 2 again on the same files:
  every analysis comes from the cache.

Each process has its own SQLite database under /dev/shm (copied from one migrated template) and
raised per-user limits (`MAX_CONCURRENT_GENERATIONS`, `DAILY_TOKEN_BUDGET`), so that the bound
is what is measured. Printed: documents per minute, the ratio to the baseline at the same bound,
the peak documents in flight Lectern saw, and the process's peak RSS (VmHWM). Wall-clock times
on whatever else the machine runs: compare the ratios, not the numbers.

    .venv/bin/python -m bench.imports_stage2 [--docs 200] [--bounds 1,4,8] [--delay-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
WORDS = (
    "install configure deploy module request response widget course lesson pathway document "
    "server client token cache queue worker stage import folder commit branch"
).split()


def _env(db: Path, args: argparse.Namespace, bound: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{db}",
        AI_PROVIDER="offline",
        AI_PROVIDERS="",
        OFFLINE_CHUNK_DELAY_MS=str(args.delay_ms),
        OFFLINE_CHUNK_SIZE=str(args.chunk_size),
        IMPORT_ANALYSIS_CONCURRENCY=str(bound),
        IMPORT_MAX_DOCUMENTS=str(max(200, args.docs)),
        IMPORT_MAX_ESTIMATED_TOKENS=str(10**12),
        MAX_CONCURRENT_GENERATIONS="100000",
        DAILY_TOKEN_BUDGET=str(10**15),
        LOG_LEVEL="WARNING",
        DEBUG="false",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="localhost",
    )
    return env


def document(n: int) -> str:
    """A Markdown page of about 3 KB, different for each `n`."""
    words = " ".join(WORDS[(n * 7 + i) % len(WORDS)] for i in range(200))
    return f"# Page {n}\n\n{words}\n\n## Details\n\n{words[::-1]}\n\n## Notes {n}\n\n{words}\n"


# --- child processes ----------------------------------------------------------------------------


def _vmhwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child_baseline(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from ai_chat.agent.base import Completion, GenerationRequest
    from ai_chat.agent.offline import OfflineAgent
    from ai_chat.kinds import get_kind

    kind = get_kind("import_document")
    agent = OfflineAgent(chunk_size=args.chunk_size, chunk_delay=args.delay_ms / 1000)

    async def one(n: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            request = GenerationRequest(
                kind="import_document",
                instructions=kind.instructions,
                prompt=document(n),
                history=[],
                result_schema=kind.result_schema(),
                context={"file_path": f"docs/page-{n}.md"},
                max_output_tokens=8192,
                user_text=f"Analyse the document docs/page-{n}.md.",
            )
            async for event in agent.stream(request):
                if isinstance(event, Completion):
                    json.loads(event.text)

    async def run() -> float:
        gate = asyncio.Semaphore(args.bound)
        start = time.perf_counter()
        await asyncio.gather(*(one(n, gate) for n in range(args.docs)))
        return time.perf_counter() - start

    seconds = asyncio.run(run())
    return {"seconds": seconds, "vmhwm_kb": _vmhwm_kb()}


def child_lectern(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from courses.models import Course
    from imports.models import (
        AnalyzedDocument,
        CourseImport,
        Stage1Selection,
        Stage2Input,
        StageTask,
    )
    from imports.models import RepositoryFile as File
    from imports.services import stages
    from imports.services.stages import stage_queue
    from imports.tasks import STAGE_TASKS

    sent: list[tuple[int, int, str]] = []
    stages.stage_send = lambda i, s, t, c: sent.append((i, s, t))  # type: ignore[assignment]
    stages.stage_announce = lambda **kwargs: None  # type: ignore[assignment]  # no channel layer
    owner = get_user_model().objects.create_user("bench", "bench@example.com", "pw")
    course = Course.objects.create(owner=owner, title="Bench", description="Stage 2")
    course_import = CourseImport.objects.create(
        course=course, user=owner, repo_url="/bench", commit="0" * 40, status="stage1_complete"
    )
    import hashlib

    File.objects.bulk_create(
        File(
            course_import=course_import,
            path=f"docs/page-{n}.md",
            is_documentation=True,
            size=len(document(n)),
            text=document(n),
            content_hash=hashlib.sha256(document(n).encode()).hexdigest(),
        )
        for n in range(args.docs)
    )
    File.objects.create(course_import=course_import, path="docs", file_type="folder")
    stages.stage_rows(course_import=course_import)
    StageTask.objects.filter(course_import=course_import, stage=1).update(status="SUCCESS")
    Stage1Selection.objects.create(course_import=course_import, selected_folders=["docs"])
    Stage2Input.objects.create(course_import=course_import, complexity_level="beginner")

    def run_once() -> tuple[float, dict[str, Any]]:
        stage_queue(course_import=course_import, stage=2)
        import_id, stage, task_id = sent.pop()
        start = time.perf_counter()
        outcome = STAGE_TASKS[stage].apply(args=[import_id], task_id=task_id).get()
        seconds = time.perf_counter() - start
        row = StageTask.objects.get(course_import=course_import, stage=2)
        assert outcome == "succeeded", (outcome, row.error_message)
        assert AnalyzedDocument.objects.filter(course_import=course_import).count() == args.docs
        return seconds, row.metadata

    seconds, metadata = run_once()
    cached_seconds, cached = run_once()
    return {
        "seconds": seconds,
        "peak_in_flight": metadata["peak_in_flight"],
        "analysed": metadata["analysed"],
        "cached_seconds": cached_seconds,
        "cached": cached["cached"],
        "vmhwm_kb": _vmhwm_kb(),
    }


# --- the orchestrating process ------------------------------------------------------------------


def _migrated_template(workdir: Path) -> Path:
    template = workdir / "template.sqlite3"
    env = _env(template, argparse.Namespace(delay_ms=0, chunk_size=10, docs=200), 1)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    return template


def _child(variant: str, bound: int, args: argparse.Namespace, template: Path, workdir: Path):
    db = workdir / f"{variant}-{bound}-{time.monotonic_ns()}.sqlite3"
    shutil.copy(template, db)
    command = [
        PYTHON,
        "-m",
        "bench.imports_stage2",
        "--child",
        variant,
        "--bound",
        str(bound),
        "--docs",
        str(args.docs),
        "--delay-ms",
        str(args.delay_ms),
        "--chunk-size",
        str(args.chunk_size),
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=_env(db, args, bound), capture_output=True, text=True, timeout=3600
    )
    if done.returncode:
        raise SystemExit(f"{variant} at bound {bound} failed:\n{done.stderr[-3000:]}")
    db.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--bounds", default="1,4,8")
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument("--chunk-size", type=int, default=10)
    parser.add_argument("--child", choices=("baseline", "lectern"))
    parser.add_argument("--bound", type=int, default=1)
    args = parser.parse_args(argv)
    if args.child:
        result = (child_baseline if args.child == "baseline" else child_lectern)(args)
        print(json.dumps(result))
        return
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    workdir = Path(tempfile.mkdtemp(prefix="bench-stage2-", dir=shm))
    try:
        template = _migrated_template(workdir)
        rows = []
        for bound in [int(b) for b in args.bounds.split(",")]:
            base = _child("baseline", bound, args, template, workdir)
            ours = _child("lectern", bound, args, template, workdir)
            per_minute = 60 * args.docs / ours["seconds"]
            base_per_minute = 60 * args.docs / base["seconds"]
            rows.append(
                [
                    bound,
                    f"{base_per_minute:.0f}",
                    f"{per_minute:.0f}",
                    f"{ours['seconds'] / base['seconds']:.2f}",
                    ours["peak_in_flight"],
                    f"{60 * args.docs / ours['cached_seconds']:.0f}",
                    ours["cached"],
                    f"{ours['vmhwm_kb'] / 1024:.0f}",
                    f"{base['vmhwm_kb'] / 1024:.0f}",
                ]
            )
            print(f"bound {bound}: done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    headers = [
        "bound",
        "baseline docs/min",
        "Lectern docs/min",
        "time ratio (Lectern/baseline)",
        "peak in flight",
        "cached re-run docs/min",
        "from cache",
        "Lectern peak RSS MB",
        "baseline peak RSS MB",
    ]
    print(
        f"\nStage 2, {args.docs} documents, provider paced at {args.delay_ms} ms per "
        f"{args.chunk_size}-character chunk\n"
    )
    print("| " + " | ".join(headers) + " |")
    print("|" + " --- |" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
