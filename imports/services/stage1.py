"""Stage 1: fetch the repository (`imports.repository`), store its folders and files."""

from typing import Any

from django.db import transaction

from imports.exceptions import StageFailed
from imports.models import CourseImport, RepositoryFile
from imports.services.runner import StageRun


def stage1_body(run: StageRun) -> tuple[str, dict[str, Any]]:
    """Fetch, scan and save; a repository that cannot be read fails the stage with why."""
    from imports.repository import (
        FetchLimits,
        RepositoryFetchFailed,
        RepositoryRefused,
        fetch_repository,
    )

    course_import = CourseImport.objects.get(pk=run.lease.import_id)
    run.step(5, "Cloning repository...")
    try:
        snapshot = fetch_repository(
            course_import.repo_url, limits=FetchLimits.from_settings(), progress=run.step
        )
    except (RepositoryRefused, RepositoryFetchFailed) as refused:
        raise StageFailed(refused.message) from None
    run.step(80, "Saving to database...")
    counts = repository_files_save(course_import=course_import, snapshot=snapshot)
    return "Repository analysis complete", {"commit": snapshot.commit, **counts}


@transaction.atomic
def repository_files_save(*, course_import: CourseImport, snapshot: Any) -> dict[str, int]:
    """Replace the import's files with the snapshot's (folders, files, skipped with reasons),
    record the commit, and mark lessons whose documents changed since they were generated."""
    from imports.services.grounding import lessons_mark_changed

    RepositoryFile.objects.filter(course_import=course_import).delete()
    rows = [
        RepositoryFile(course_import=course_import, path=folder, file_type="folder")
        for folder in snapshot.folders
    ]
    rows += [
        RepositoryFile(
            course_import=course_import,
            path=f.path,
            size=f.size,
            content_hash=f.content_hash,
            text=f.text,
            is_documentation=f.is_documentation,
            is_overview_candidate=f.is_overview_candidate,
        )
        for f in snapshot.files
    ]
    rows += [
        RepositoryFile(course_import=course_import, path=s.path, skipped_reason=s.reason[:30])
        for s in snapshot.skipped
    ]
    RepositoryFile.objects.bulk_create(rows, batch_size=500)
    course_import.commit = snapshot.commit
    course_import.repo_name = snapshot.url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    course_import.save(update_fields=["commit", "repo_name", "updated_at"])
    changed = lessons_mark_changed(course_import=course_import)
    return {
        "files": len(snapshot.files),
        "documentation": sum(1 for f in snapshot.files if f.is_documentation),
        "skipped": len(snapshot.skipped),
        "lessons_changed": changed,
    }
