"""`/api/courses/{course_id}/…`: a course's repository import, stage by stage (docs/imports.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from channels.db import database_sync_to_async
from django.http import HttpResponse
from ninja import Router, Status
from pydantic import BaseModel, Field

from api import presenters
from api.auth import ApiRequest
from api.errors import ApiError, Conflict, Forbidden, InvalidRequest, NotFound, TooLarge
from api.schemas import CourseOut, ErrorOut
from imports import selectors
from imports.exceptions import ImportRefused, StageConflict
from imports.services import requests
from imports.services.export import course_export_zip, generated_course
from learning.selectors import course_get_viewable, course_roles

router = Router(tags=["repository import"])
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
}
StageName = Literal["stage1", "stage2", "stage3", "stage4"]
STAGE_NUMBERS = {"stage1": 1, "stage2": 2, "stage3": 3, "stage4": 4}


class AnalyzeRepositoryIn(BaseModel):
    repo_url: str = Field(min_length=1, max_length=2000)


class StartedOut(BaseModel):
    task_id: str
    status: Literal["started"]


class StageStatusOut(BaseModel):
    stage: StageName
    status: Literal["PENDING", "STARTED", "SUCCESS", "FAILURE", "RETRY"]
    progress: int
    current_step: str
    error_message: str | None
    task_id: str | None
    started_at: datetime | None
    completed_at: datetime | None


class RepoFileOut(BaseModel):
    path: str
    size: int
    is_documentation: bool
    is_overview_candidate: bool


class SkippedOut(BaseModel):
    path: str
    reason: str


class RepositoryFilesOut(BaseModel):
    commit: str
    folders: list[str]
    files: list[RepoFileOut]
    overview_candidates: list[str]
    skipped: list[SkippedOut] = Field(description="Every file left out, with its reason.")


class Stage1SelectionIn(BaseModel):
    selected_folders: list[str] = Field(max_length=1000)
    overview_document: str | None = None
    excluded_documents: list[str] = Field(
        default_factory=list,
        max_length=5000,
        description="Documents of the selected folders to leave out of stage 2.",
    )


class SavedOut(BaseModel):
    message: str
    next_stage: str


class EstimateDocumentOut(BaseModel):
    path: str
    size: int
    estimated_tokens: int


class Stage2EstimateOut(BaseModel):
    documents: list[EstimateDocumentOut]
    document_count: int
    estimated_tokens: int
    excluded_documents: list[str]
    max_documents: int
    max_estimated_tokens: int
    within_caps: bool


class AnalyzeDocumentsIn(BaseModel):
    complexity_level: Literal["beginner", "intermediate", "advanced"]
    additional_info: str = Field(default="", max_length=4000)


class AnalyzedDocumentOut(BaseModel):
    id: int
    file_path: str
    title: str
    doc_type: str
    complexity_level: str
    key_concepts: list[str]
    learning_objectives: list[str]
    summary: str
    prerequisites: list[str]
    related_topics: list[str]
    word_count: int
    cut: bool = Field(description="Cut on headings to fit the model's context.")
    headings_left_out: list[str]


class GeneratePathwaysIn(BaseModel):
    additional_info: str = Field(default="", max_length=4000)


class PathwayModuleOut(BaseModel):
    id: int
    title: str
    description: str
    sequence_order: int
    learning_objectives: list[str]
    estimated_time: str
    document_ids: list[int]


class LeftOutOut(BaseModel):
    document_id: int
    reason: str


class PathwayOut(BaseModel):
    id: int
    title: str
    description: str
    complexity_level: str
    estimated_duration: str
    prerequisites: list[str]
    modules: list[PathwayModuleOut]
    left_out: list[LeftOutOut]


class Stage3SelectionIn(BaseModel):
    selected_pathway_id: int


class ModuleContentOut(BaseModel):
    module_id: int | None
    introduction: str
    main_content: str
    conclusion: str
    assessment: str
    summary: str


class GeneratedCourseOut(BaseModel):
    status: Literal["generating", "completed", "failed"]
    pathway_id: int
    course: CourseOut
    modules: list[ModuleContentOut]
    export_url: str | None


class GroundingOut(BaseModel):
    lesson_id: int
    cited: int
    resolved: int
    flagged: bool = Field(description="Some sources did not resolve to stored text: dropped.")
    note: str


class ImportOut(BaseModel):
    course_id: int
    status: str = Field(description="draft, stage1_running, stage1_complete, … stage4_complete")
    repo_url: str | None
    commit: str
    stages: list[StageStatusOut]
    changed_lessons: list[int] = Field(
        description="Lessons whose source files changed since they were generated."
    )
    grounding: list[GroundingOut] = Field(
        description="Each generated lesson's citation check: the share of sources that resolved."
    )


def _api_error(refused: ImportRefused) -> ApiError:
    errors: dict[str, type[ApiError]] = {
        "not_found": NotFound,
        "forbidden": Forbidden,
        "conflict": Conflict,
        "too_large": TooLarge,
    }
    return errors.get(refused.code, InvalidRequest)(refused.message, details=refused.details)


def _call(service: Any, **kwargs: Any) -> Any:
    try:
        return service(**kwargs)
    except ImportRefused as refused:
        raise _api_error(refused) from None


async def _run(service: Any, **kwargs: Any) -> Any:
    return await database_sync_to_async(_call)(service, **kwargs)


def _import_or_conflict(*, user: Any, course_id: int, stage: int) -> Any:
    course_import = selectors.import_get(user=user, course_id=course_id)
    row = selectors.stage_status(course_import=course_import, stage=stage)
    if course_import is None or row["status"] != "SUCCESS":
        raise StageConflict(f"Stage {stage} has not completed.")
    return course_import


def _started(row: Any) -> Status:
    return Status(202, {"task_id": row.task_id, "status": "started"})


@router.post(
    "/courses/{course_id}/analyze-repository",
    response={202: StartedOut, **ERRORS},
    summary="Start stage 1: fetch and scan a repository",
)
async def analyze_repository(
    request: ApiRequest, course_id: int, payload: AnalyzeRepositoryIn
) -> Any:
    """`https://` only (a local path only with REPOSITORY_ALLOW_LOCAL); a refused URL is 400
    at once. Starting again replaces stage 1's results and clears the later stages."""
    row = await _run(
        requests.repository_analyze_request,
        user=request.auth,
        course_id=course_id,
        repo_url=payload.repo_url,
    )
    return _started(row)


@router.get(
    "/courses/{course_id}/{stage}/status",
    response={200: StageStatusOut, **ERRORS},
    summary="How a stage of the import stands",
)
async def stage_status(request: ApiRequest, course_id: int, stage: StageName) -> Any:
    """PENDING with no task id until the stage is first started."""

    def read() -> dict[str, Any]:
        course_import = selectors.import_get(user=request.auth, course_id=course_id)
        return selectors.stage_status(course_import=course_import, stage=STAGE_NUMBERS[stage])

    return await _run(read)


@router.get(
    "/courses/{course_id}/import",
    response={200: ImportOut, **ERRORS},
    summary="The course's import: status and all four stages",
)
async def import_overview(request: ApiRequest, course_id: int) -> Any:
    return await _run(selectors.import_overview, user=request.auth, course_id=course_id)


@router.get(
    "/courses/{course_id}/repository-files",
    response={200: RepositoryFilesOut, **ERRORS},
    summary="Stage 1's folders and files",
)
async def repository_files(request: ApiRequest, course_id: int) -> Any:
    def read() -> dict[str, Any]:
        course_import = _import_or_conflict(user=request.auth, course_id=course_id, stage=1)
        return selectors.repository_files(course_import=course_import)

    return await _run(read)


@router.post(
    "/courses/{course_id}/stage1-selections",
    response={200: SavedOut, **ERRORS},
    summary="Choose the folders (and overview document) to analyse",
)
async def stage1_selections(request: ApiRequest, course_id: int, payload: Stage1SelectionIn) -> Any:
    """Only saves (and clears stages 2 to 4); `POST analyze-documents` starts stage 2. A folder
    includes its subfolders; `""` is the whole repository."""
    await _run(
        requests.stage1_selection_save,
        user=request.auth,
        course_id=course_id,
        selected_folders=payload.selected_folders,
        overview_document=payload.overview_document,
        excluded_documents=payload.excluded_documents,
    )
    return {"message": "Selections saved", "next_stage": "stage2"}


@router.get(
    "/courses/{course_id}/stage2/estimate",
    response={200: Stage2EstimateOut, **ERRORS},
    summary="What stage 2 will cost: documents and estimated tokens",
)
async def stage2_estimate(request: ApiRequest, course_id: int) -> Any:
    """Deselect documents with `excluded_documents` in `POST stage1-selections`."""

    def read() -> dict[str, Any]:
        course_import = _import_or_conflict(user=request.auth, course_id=course_id, stage=1)
        return selectors.stage2_estimate(course_import=course_import)

    return await _run(read)


@router.post(
    "/courses/{course_id}/analyze-documents",
    response={202: StartedOut, **ERRORS},
    summary="Start stage 2: analyse the selected documents",
)
async def analyze_documents(
    request: ApiRequest, course_id: int, payload: AnalyzeDocumentsIn
) -> Any:
    """409 without a completed stage 1 and a selection; 413 over the import's caps."""
    row = await _run(
        requests.documents_analyze_request,
        user=request.auth,
        course_id=course_id,
        complexity_level=payload.complexity_level,
        additional_info=payload.additional_info,
    )
    return _started(row)


@router.get(
    "/courses/{course_id}/analyzed-documents",
    response={200: list[AnalyzedDocumentOut], **ERRORS},
    summary="Stage 2's document analyses",
)
async def analyzed_documents(request: ApiRequest, course_id: int) -> Any:
    def read() -> list[dict[str, Any]]:
        course_import = _import_or_conflict(user=request.auth, course_id=course_id, stage=2)
        return selectors.analyzed_documents(course_import=course_import)

    return await _run(read)


@router.post(
    "/courses/{course_id}/generate-pathways",
    response={202: StartedOut, **ERRORS},
    summary="Start stage 3: learning pathways",
)
async def generate_pathways(
    request: ApiRequest, course_id: int, payload: GeneratePathwaysIn
) -> Any:
    row = await _run(
        requests.pathways_generate_request,
        user=request.auth,
        course_id=course_id,
        additional_info=payload.additional_info,
    )
    return _started(row)


@router.get(
    "/courses/{course_id}/pathways",
    response={200: list[PathwayOut], **ERRORS},
    summary="Stage 3's pathway options",
)
async def pathways(request: ApiRequest, course_id: int) -> Any:
    def read() -> list[dict[str, Any]]:
        course_import = _import_or_conflict(user=request.auth, course_id=course_id, stage=3)
        return selectors.pathways(course_import=course_import)

    return await _run(read)


@router.post(
    "/courses/{course_id}/stage3-selections",
    response={200: SavedOut, **ERRORS},
    summary="Choose a pathway",
)
async def stage3_selections(request: ApiRequest, course_id: int, payload: Stage3SelectionIn) -> Any:
    """Only saves (and clears stage 4); `POST generate-course` starts stage 4."""
    await _run(
        requests.stage3_selection_save,
        user=request.auth,
        course_id=course_id,
        pathway_id=payload.selected_pathway_id,
    )
    return {"message": "Selection saved", "next_stage": "stage4"}


@router.post(
    "/courses/{course_id}/generate-course",
    response={202: StartedOut, **ERRORS},
    summary="Start stage 4: the course from the chosen pathway",
)
async def generate_course(request: ApiRequest, course_id: int) -> Any:
    row = await _run(requests.course_generate_request, user=request.auth, course_id=course_id)
    return _started(row)


@router.get(
    "/courses/{course_id}/generated-course",
    response={200: GeneratedCourseOut, **ERRORS},
    summary="Stage 4's course",
)
async def generated_course_get(request: ApiRequest, course_id: int) -> Any:
    def read() -> dict[str, Any]:
        body = generated_course(user=request.auth, course_id=course_id)
        course = course_get_viewable(user=request.auth, course_id=course_id)
        assert course is not None  # generated_course checked the caller may edit it
        role = course_roles(user=request.auth, course_ids=[course.pk])[course.pk]
        return {**body, "course": presenters.course_detail(course, role=role)}

    return await _run(read)


@router.get(
    "/courses/{course_id}/export",
    response={200: None, **ERRORS},
    summary="The course as Markdown files, zipped",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The course as a zip of Markdown files.",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
async def export(request: ApiRequest, course_id: int) -> Any:
    """`application/zip`: one folder per module, a Markdown file per lesson."""
    name, data = await _run(course_export_zip, user=request.auth, course_id=course_id)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
