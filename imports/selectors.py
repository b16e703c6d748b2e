"""Reads of an import, always through a course the caller may edit."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from courses.models import Course
from imports.exceptions import NotAllowed, NotVisible
from imports.models import ANALYSIS_FIELDS, CourseImport, RepositoryFile, StageTask
from jobs.selectors import course_is_editor
from learning.selectors import course_viewable_by

AnyUser = AbstractBaseUser | AnonymousUser
# What one document's analysis costs besides its text: instructions, schema, answer.
DOCUMENT_OVERHEAD_TOKENS = 1200


def course_for_import(*, user: AnyUser, course_id: int) -> Course:
    """The course when the caller may edit it; NotVisible / NotAllowed otherwise."""
    course = course_viewable_by(user=user).filter(pk=course_id).first()
    if course is None:
        raise NotVisible("Course not found.")
    if not course_is_editor(user=user, course=course):
        raise NotAllowed("Only the course's owner or staff may import into it.")
    return course


def import_get(*, user: AnyUser, course_id: int) -> CourseImport | None:
    """The course's import (None before the first `analyze-repository`)."""
    course = course_for_import(user=user, course_id=course_id)
    return CourseImport.objects.filter(course=course).first()


def stage_status(*, course_import: CourseImport | None, stage: int) -> dict[str, Any]:
    """A stage as `GET stageN/status` answers it (PENDING with no task when never started)."""
    row = (
        StageTask.objects.filter(course_import=course_import, stage=stage).first()
        if course_import is not None
        else None
    )
    return {
        "stage": f"stage{stage}",
        "status": row.status if row else StageTask.Status.PENDING,
        "progress": row.progress if row else 0,
        "current_step": row.current_step if row else "",
        "error_message": row.error_message or None if row else None,
        "task_id": (row.task_id or None) if row else None,
        "started_at": row.started_at if row else None,
        "completed_at": row.completed_at if row else None,
    }


def in_folders(path: str, folders: list[str]) -> bool:
    """A selected folder includes its subfolders; "" is the whole repository."""
    return any(f == "" or path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def documents_selected(*, course_import: CourseImport) -> QuerySet[RepositoryFile]:
    """The documentation files stage 2 will analyse: in the selected folders (and the
    overview document), minus those the user deselected."""
    selection = getattr(course_import, "stage1_selection", None)
    if selection is None:
        return RepositoryFile.objects.none()
    readable = RepositoryFile.objects.filter(
        course_import=course_import, file_type=RepositoryFile.Type.FILE, skipped_reason=""
    )
    keep = [
        f.pk
        for f in readable.only("pk", "path", "is_documentation")
        if (f.is_documentation and in_folders(f.path, selection.selected_folders))
        or f.path == selection.overview_document
    ]
    return readable.filter(pk__in=keep).exclude(path__in=selection.excluded_documents)


def document_tokens(*, size_chars: int) -> int:
    """The tokens one document's analysis is estimated to cost (about 4 characters a token)."""
    return min(size_chars, settings.IMPORT_DOCUMENT_MAX_CHARS) // 4 + DOCUMENT_OVERHEAD_TOKENS


def stage2_estimate(*, course_import: CourseImport) -> dict[str, Any]:
    """What stage 2 will send: each selected document and the estimated tokens, against the
    import's caps."""
    selection = getattr(course_import, "stage1_selection", None)
    excluded = set(selection.excluded_documents) if selection else set()
    files = list(documents_selected(course_import=course_import).order_by("path"))
    costs = [document_tokens(size_chars=len(f.text)) for f in files]
    rows = [
        {"path": f.path, "size": f.size, "estimated_tokens": cost}
        for f, cost in zip(files, costs, strict=True)
    ]
    tokens = sum(costs)
    return {
        "documents": rows,
        "document_count": len(rows),
        "estimated_tokens": tokens,
        "excluded_documents": sorted(excluded),
        "max_documents": settings.IMPORT_MAX_DOCUMENTS,
        "max_estimated_tokens": settings.IMPORT_MAX_ESTIMATED_TOKENS,
        "within_caps": len(rows) <= settings.IMPORT_MAX_DOCUMENTS
        and tokens <= settings.IMPORT_MAX_ESTIMATED_TOKENS,
    }


def repository_files(*, course_import: CourseImport) -> dict[str, Any]:
    """Stage 1's result: folders, readable files, overview candidates, and what was skipped."""
    rows = list(RepositoryFile.objects.filter(course_import=course_import).order_by("path"))
    files = [r for r in rows if r.file_type == RepositoryFile.Type.FILE and not r.skipped_reason]
    return {
        "commit": course_import.commit,
        "folders": [r.path for r in rows if r.file_type == RepositoryFile.Type.FOLDER],
        "files": [
            {
                "path": r.path,
                "size": r.size,
                "is_documentation": r.is_documentation,
                "is_overview_candidate": r.is_overview_candidate,
            }
            for r in files
        ],
        "overview_candidates": [r.path for r in files if r.is_overview_candidate],
        "skipped": [{"path": r.path, "reason": r.skipped_reason} for r in rows if r.skipped_reason],
    }


def pathways(*, course_import: CourseImport) -> list[dict[str, Any]]:
    """Stage 3's options, each with its modules and the documents they draw on."""
    rows = course_import.pathways.prefetch_related("modules__documents").order_by("position")
    return [
        {
            "id": p.pk,
            "title": p.title,
            "description": p.description,
            "complexity_level": p.complexity_level,
            "estimated_duration": p.estimated_duration,
            "prerequisites": p.prerequisites,
            "left_out": p.left_out,
            "modules": [
                {
                    "id": m.pk,
                    "title": m.title,
                    "description": m.description,
                    "sequence_order": m.sequence_order,
                    "learning_objectives": m.learning_objectives,
                    "estimated_time": m.estimated_time,
                    "document_ids": sorted(d.pk for d in m.documents.all()),
                }
                for m in p.modules.all()
            ],
        }
        for p in rows
    ]


def import_overview(*, user: AnyUser, course_id: int) -> dict[str, Any]:
    """`GET import`: the course's import status, its four stages, lessons to regenerate."""
    from imports.models import LessonDocument, LessonGrounding

    course_import = import_get(user=user, course_id=course_id)
    changed = LessonDocument.objects.filter(lesson__course_id=course_id, source_changed=True)
    checks = LessonGrounding.objects.filter(lesson__course_id=course_id).order_by("lesson_id")
    return {
        "course_id": course_id,
        "status": course_import.status if course_import else CourseImport.Status.DRAFT,
        "repo_url": course_import.repo_url if course_import else None,
        "commit": course_import.commit if course_import else "",
        "stages": [stage_status(course_import=course_import, stage=n) for n in (1, 2, 3, 4)],
        "changed_lessons": sorted(set(changed.values_list("lesson_id", flat=True))),
        "grounding": list(checks.values("lesson_id", "cited", "resolved", "flagged", "note")),
    }


ANALYSIS_OUT = ("id", "file_path", *ANALYSIS_FIELDS, "word_count", "cut", "headings_left_out")


def analyzed_documents(*, course_import: CourseImport) -> list[dict[str, Any]]:
    """Stage 2's analyses, by path."""
    return list(course_import.documents.order_by("file_path").values(*ANALYSIS_OUT))
