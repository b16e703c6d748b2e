"""What the API asks of an import: start a stage, save a selection, in the contract's order.

Selections only save; the explicit starts queue stages. A start whose input is missing, or
while any stage of the import runs, is a StageConflict (409). The import's row is locked for
the check and the queueing, so two requests at once never start one stage twice.
"""

from django.conf import settings
from django.db import transaction

from imports.exceptions import ImportRefused, OverCap, StageConflict
from imports.models import (
    CourseImport,
    Pathway,
    RepositoryFile,
    Stage1Selection,
    Stage2Input,
    Stage3Input,
    Stage3Selection,
    StageTask,
)
from imports.selectors import AnyUser, course_for_import, stage2_estimate
from imports.services.stages import stage_is_running, stage_queue, stage_rows, stages_reset
from lessons.models import Lesson

Status = StageTask.Status


def _locked(*, user: AnyUser, course_id: int) -> CourseImport:
    course = course_for_import(user=user, course_id=course_id)
    course_import = CourseImport.objects.select_for_update().filter(course=course).first()
    if course_import is None:
        raise StageConflict("Analyze a repository first (POST analyze-repository).")
    return course_import


def _require(*, course_import: CourseImport, stage: int, action: str) -> dict[int, StageTask]:
    """The stages, after checking none runs and stage `stage` (if any) succeeded."""
    rows = stage_rows(course_import=course_import)
    running = [n for n, row in rows.items() if stage_is_running(row)]
    if running:
        raise StageConflict(f"Stage {running[0]} is running; wait for it before you {action}.")
    if stage and rows[stage].status != Status.SUCCESS:
        raise StageConflict(f"Stage {stage} has not completed; it must before you {action}.")
    return rows


@transaction.atomic
def repository_analyze_request(*, user: AnyUser, course_id: int, repo_url: str) -> StageTask:
    """Start (or restart) stage 1 on `repo_url`; a refused URL is an invalid request at once."""
    from imports.repository import RepositoryRefused, check_repo_url

    course = course_for_import(user=user, course_id=course_id)
    try:
        url = check_repo_url(repo_url)
    except RepositoryRefused as refused:
        details = [{"field": "repo_url", "message": refused.message}]
        raise ImportRefused(refused.message, details=details) from None
    course_import, _ = CourseImport.objects.get_or_create(
        course=course, defaults={"user": user, "repo_url": url}
    )  # type: ignore[misc]
    course_import = CourseImport.objects.select_for_update().get(pk=course_import.pk)
    _require(course_import=course_import, stage=0, action="analyze the repository again")
    course_import.repo_url = url
    course_import.user = user  # type: ignore[assignment]
    course_import.save(update_fields=["repo_url", "user", "updated_at"])
    return stage_queue(course_import=course_import, stage=1)


@transaction.atomic
def stage1_selection_save(
    *,
    user: AnyUser,
    course_id: int,
    selected_folders: list[str],
    overview_document: str | None,
    excluded_documents: list[str],
) -> Stage1Selection:
    """Save the folders (and overview document) stage 2 reads; clears stages 2 to 4."""
    course_import = _locked(user=user, course_id=course_id)
    _require(course_import=course_import, stage=1, action="choose folders")
    files = RepositoryFile.objects.filter(course_import=course_import)
    folders = set(files.filter(file_type="folder").values_list("path", flat=True)) | {""}
    details = [
        {"field": "selected_folders", "message": f"{folder!r} is not a folder of the repository."}
        for folder in selected_folders
        if folder not in folders
    ]
    readable = files.filter(file_type="file", skipped_reason="")
    if overview_document and not readable.filter(path=overview_document).exists():
        message = f"{overview_document!r} is not a readable file of the repository."
        details.append({"field": "overview_document", "message": message})
    if not selected_folders:
        details.append({"field": "selected_folders", "message": "Select at least one folder."})
    if details:
        raise ImportRefused(
            "The selection names what the repository does not have.", details=details
        )
    stages_reset(course_import=course_import, from_stage=2)
    selection, _ = Stage1Selection.objects.update_or_create(
        course_import=course_import,
        defaults={
            "selected_folders": selected_folders,
            "overview_document": overview_document or "",
            "excluded_documents": sorted(set(excluded_documents)),
        },
    )
    return selection


@transaction.atomic
def documents_analyze_request(
    *, user: AnyUser, course_id: int, complexity_level: str, additional_info: str
) -> StageTask:
    """Start stage 2 on the selection, within the import's caps."""
    course_import = _locked(user=user, course_id=course_id)
    _require(course_import=course_import, stage=1, action="analyze documents")
    if not Stage1Selection.objects.filter(course_import=course_import).exists():
        raise StageConflict("Choose folders first (POST stage1-selections).")
    estimate = stage2_estimate(course_import=course_import)
    if not estimate["document_count"]:
        raise StageConflict("The selected folders hold no documents; choose other folders.")
    if not estimate["within_caps"]:
        raise OverCap(
            f"Stage 2 would analyse {estimate['document_count']} documents (about "
            f"{estimate['estimated_tokens']} tokens); an import may analyse at most "
            f"{settings.IMPORT_MAX_DOCUMENTS} documents and "
            f"{settings.IMPORT_MAX_ESTIMATED_TOKENS} tokens. Deselect documents."
        )
    Stage2Input.objects.update_or_create(
        course_import=course_import,
        defaults={"complexity_level": complexity_level, "additional_info": additional_info},
    )
    return stage_queue(course_import=course_import, stage=2)


@transaction.atomic
def pathways_generate_request(*, user: AnyUser, course_id: int, additional_info: str) -> StageTask:
    course_import = _locked(user=user, course_id=course_id)
    _require(course_import=course_import, stage=2, action="generate pathways")
    Stage3Input.objects.update_or_create(
        course_import=course_import, defaults={"additional_info": additional_info}
    )
    return stage_queue(course_import=course_import, stage=3)


@transaction.atomic
def stage3_selection_save(*, user: AnyUser, course_id: int, pathway_id: int) -> Stage3Selection:
    course_import = _locked(user=user, course_id=course_id)
    _require(course_import=course_import, stage=3, action="choose a pathway")
    pathway = Pathway.objects.filter(course_import=course_import, pk=pathway_id).first()
    if pathway is None:
        details = [{"field": "selected_pathway_id", "message": "Not a pathway of this import."}]
        raise ImportRefused("No such pathway for this course.", details=details)
    stages_reset(course_import=course_import, from_stage=4)
    selection, _ = Stage3Selection.objects.update_or_create(
        course_import=course_import, defaults={"pathway": pathway}
    )
    return selection


@transaction.atomic
def course_generate_request(*, user: AnyUser, course_id: int) -> StageTask:
    course_import = _locked(user=user, course_id=course_id)
    _require(course_import=course_import, stage=3, action="generate the course")
    if not Stage3Selection.objects.filter(course_import=course_import).exists():
        raise StageConflict("Choose a pathway first (POST stage3-selections).")
    written = lessons_written_from(course_import)
    if written:
        # Stage 4 replaces the modules it wrote before, lessons and all: never a written one.
        raise StageConflict(
            f"{written} lesson(s) this import wrote have been generated (or are generating); "
            "building the course again would delete them. Import into a new course, or "
            "delete those modules first."
        )
    return stage_queue(course_import=course_import, stage=4)


def lessons_written_from(course_import: CourseImport) -> int:
    """How many lessons an earlier stage 4 wrote that are no longer skeletons."""
    return (
        Lesson.objects.filter(course=course_import.course, import_documents__isnull=False)
        .exclude(generation_status__in=["pending", "failed"])
        .distinct()
        .count()
    )
