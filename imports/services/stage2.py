"""Stage 2: analyse each selected document, at most `bound()` at once.

Resumes at the document: a retried or swept stage analyses only the documents without an
analysis. A document whose text, prompt version, model and inputs were analysed before (by
any import) is taken from the cache and costs no tokens.
"""

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings

from ai_chat.agent import build_agent
from ai_chat.kinds import get_kind
from imports.exceptions import StageFailed
from imports.models import (
    ANALYSIS_FIELDS,
    AnalysisCache,
    AnalyzedDocument,
    CourseImport,
    RepositoryFile,
)
from imports.selectors import documents_selected
from imports.services.documents import document_excerpt, word_count
from imports.services.generation import bound, stage_generate
from imports.services.runner import StageRun
from jobs.generation import background_hub

KIND = "import_document"


@dataclass
class Tally:
    total: int
    done: int
    analysed: int = 0
    cached: int = 0
    cut: int = 0
    failure: BaseException | None = None
    in_flight: int = 0
    peak_in_flight: int = 0


def stage2_body(run: StageRun) -> tuple[str, dict[str, Any]]:
    course_import = CourseImport.objects.select_related("stage2_input", "user").get(
        pk=run.lease.import_id
    )
    files = list(documents_selected(course_import=course_import).order_by("path"))
    if len(files) > settings.IMPORT_MAX_DOCUMENTS:  # the request checked; the cap is hard
        raise StageFailed(
            f"The selection holds {len(files)} documents; an import may analyse at most "
            f"{settings.IMPORT_MAX_DOCUMENTS}. Deselect documents and start stage 2 again."
        )
    done = set(
        AnalyzedDocument.objects.filter(course_import=course_import).values_list(
            "file_id", flat=True
        )
    )
    todo = [f for f in files if f.pk not in done]
    tally = Tally(total=len(files), done=len(done))
    async_to_sync(analyse_all)(run=run, course_import=course_import, files=todo, tally=tally)
    if tally.failure is not None:
        raise tally.failure
    metadata = {
        "documents": tally.total,
        "analysed": tally.analysed,
        "cached": tally.cached,
        "resumed": len(done),
        "cut": tally.cut,
        "peak_in_flight": tally.peak_in_flight,
        "bound": bound(),
    }
    return "Document analysis complete", metadata


async def analyse_all(
    *,
    run: StageRun,
    course_import: CourseImport,
    files: list[RepositoryFile],
    tally: Tally,
    agent: Any = None,
) -> None:
    """Analyse `files`, `bound()` at a time; the first failure stops those not yet begun."""
    owned = agent is None
    agent = agent or await asyncio.to_thread(build_agent)
    hub = background_hub()
    gate = asyncio.Semaphore(bound())

    async def one(file: RepositoryFile) -> None:
        async with gate:
            if tally.failure is not None:
                return
            tally.in_flight += 1
            tally.peak_in_flight = max(tally.peak_in_flight, tally.in_flight)
            try:
                run.check()
                percent = int(100 * tally.done / max(1, tally.total))
                await database_sync_to_async(run.step)(percent, f"Analyzing {file.path}...")
                await analyse_one(
                    course_import=course_import, file=file, agent=agent, hub=hub, tally=tally
                )
                tally.done += 1
            except Exception as exc:  # StageLost too: the first one ends the stage
                tally.failure = tally.failure or exc
            finally:
                tally.in_flight -= 1

    try:
        await asyncio.gather(*(one(f) for f in files))
    finally:
        if hub.mirror is not None:
            await hub.mirror.aclose()
        if owned:
            await agent.aclose()


def inputs_hash(course_import: CourseImport) -> str:
    inputs = course_import.stage2_input
    raw = f"{inputs.complexity_level}\n{inputs.additional_info}"
    return hashlib.sha256(raw.encode()).hexdigest()


async def analyse_one(
    *, course_import: CourseImport, file: RepositoryFile, agent: Any, hub: Any, tally: Tally
) -> None:
    """One document's analysis: from the cache, else from the model; saved either way."""
    kind = get_kind(KIND)
    key = {
        "content_hash": file.content_hash,
        "prompt_version": kind.prompt_version,
        "model": agent.model,
        "inputs_hash": await database_sync_to_async(inputs_hash)(course_import),
    }
    cached = await AnalysisCache.objects.filter(**key).afirst()
    if cached is not None:
        await database_sync_to_async(_save)(course_import, file, cached.result, None, key, True)
        tally.cached += 1
        return
    inputs = await database_sync_to_async(lambda: course_import.stage2_input)()
    outcome = await stage_generate(
        user=course_import.user,
        kind_name=KIND,
        content=f"Analyse the document {file.path}.",
        context={
            "import_id": course_import.pk,
            "file_id": file.pk,
            "file_path": file.path,
            "complexity_level": inputs.complexity_level,
            "additional_info": inputs.additional_info,
        },
        target=file,
        agent=agent,
        hub=hub,
    )
    saved = await database_sync_to_async(_save)(
        course_import, file, outcome.data, outcome, key, False
    )
    tally.analysed += 1
    tally.cut += int(saved.cut)


def _save(
    course_import: CourseImport,
    file: RepositoryFile,
    data: Any,
    outcome: Any,
    key: dict[str, str],
    cached: bool,
) -> AnalyzedDocument:
    excerpt = document_excerpt(file.text)
    if not cached:
        AnalysisCache.objects.get_or_create(**key, defaults={"result": data})
    document, _ = AnalyzedDocument.objects.update_or_create(
        course_import=course_import,
        file=file,
        defaults={
            **{name: data[name] for name in ANALYSIS_FIELDS},
            "file_path": file.path,
            "content_hash": file.content_hash,
            "word_count": word_count(file.text),
            "cut": excerpt.cut,
            "headings_sent": excerpt.headings_sent if excerpt.cut else [],
            "headings_left_out": excerpt.headings_left_out,
            "cached": cached,
            "message_id": outcome.message_id if outcome else None,
            "model": outcome.model if outcome else key["model"],
            "prompt_version": key["prompt_version"],
        },
    )
    return document
