"""Lessons grounded in their documents (docs/imports.md, "Grounded lessons").

A lesson that stage 4 linked to documents is written from their text (the lesson prompt's
material), and when its generation completes its `document` sources are recorded: each linked
file that resolves to stored text at the import's commit, with its path, heading and the
repository's address at that commit. A link that does not resolve is dropped, the lesson is
flagged (its conversation too, for review) and the note says the share that resolved.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from ai_chat.models import AIConversation
from imports.models import CourseImport, LessonDocument, LessonGrounding, RepositoryFile
from imports.services.documents import DATA_NOTE, delimited, document_excerpt
from lessons.models import Lesson, LessonSource

logger = logging.getLogger(__name__)


def lessons_mark_changed(*, course_import: CourseImport) -> int:
    """After a re-import: mark each lesson link whose file differs from (or is missing in)
    the version the lesson was generated from. Returns how many lessons that marks."""
    current = _stored_files(course_import)
    links = LessonDocument.objects.filter(lesson__course_id=course_import.course_id).exclude(
        generated_hash=""
    )
    changed = [link for link in links if _hash(current.get(link.path)) != link.generated_hash]
    LessonDocument.objects.filter(pk__in=[link.pk for link in changed]).update(source_changed=True)
    return len({link.lesson_id for link in changed})


def _stored_files(course_import: CourseImport | None) -> dict[str, RepositoryFile]:
    if course_import is None:
        return {}
    rows = RepositoryFile.objects.filter(
        course_import=course_import, file_type=RepositoryFile.Type.FILE, skipped_reason=""
    ).exclude(text="")
    return {row.path: row for row in rows}


def _hash(row: RepositoryFile | None) -> str:
    return row.content_hash if row is not None else ""


def lesson_documents_material(lesson: Lesson) -> str:
    """The text of the documents the lesson draws on, for its prompt (delimited, each cut on
    headings to its share of IMPORT_GROUNDING_MAX_CHARS); "" for a lesson with none."""
    links = list(LessonDocument.objects.filter(lesson=lesson).order_by("position"))
    if not links:
        return ""
    course_import = CourseImport.objects.filter(course_id=lesson.course_id).first()
    files = _stored_files(course_import)
    share = max(1000, settings.IMPORT_GROUNDING_MAX_CHARS // len(links))
    parts = [
        "Teach from these documents of the course's repository; the lesson's sources are "
        "their files. " + DATA_NOTE
    ]
    for link in links:
        row = files.get(link.path)
        if row is not None:
            parts.append(
                delimited(path=link.path, text=document_excerpt(row.text, max_chars=share).text)
            )
    return "\n".join(parts) if len(parts) > 1 else ""


def lesson_grounding_recorded(sender: Any, *, lesson: Lesson, **kwargs: Any) -> None:
    """Receiver of `lesson_content_applied`: the lesson's document sources are recorded in the
    transaction that completes it, so a page told of the completion reads them. A failure to
    record them is logged and keeps the lesson (its savepoint alone rolls back)."""
    try:
        lesson_document_sources_record(lesson_id=lesson.pk)
    except Exception:
        logger.exception("recording the document sources of lesson %s failed", lesson.pk)


@transaction.atomic
def lesson_document_sources_record(*, lesson_id: int) -> LessonGrounding | None:
    """Record the lesson's `document` sources from its links, checked against stored text."""
    links = list(LessonDocument.objects.filter(lesson_id=lesson_id).order_by("position"))
    if not links:
        return None
    lesson = Lesson.objects.get(pk=lesson_id)
    course_import = CourseImport.objects.filter(course_id=lesson.course_id).first()
    files = _stored_files(course_import)
    LessonSource.objects.filter(lesson=lesson, kind=LessonSource.Kind.DOCUMENT).delete()
    resolved = 0
    for link in links:
        row = files.get(link.path)
        if row is None or course_import is None or not course_import.commit:
            continue  # no stored text at the import's commit: the citation is dropped
        LessonSource.objects.create(
            lesson=lesson,
            position=100 + resolved,
            kind=LessonSource.Kind.DOCUMENT,
            title=(link.document.title if link.document else link.path)[:300],
            path=link.path[:1000],
            heading=_first_heading(row.text)[:300],
            commit=course_import.commit,
            uri=file_uri(course_import.repo_url, course_import.commit, link.path)[:2000],
        )
        link.generated_hash = row.content_hash
        link.source_changed = False
        link.save(update_fields=["generated_hash", "source_changed"])
        resolved += 1
    flagged = resolved < len(links)
    note = f"{resolved} of {len(links)} sources resolved to the repository's stored text"
    note += f" at {course_import.commit[:12]}." if course_import and course_import.commit else "."
    grounding, _ = LessonGrounding.objects.update_or_create(
        lesson=lesson,
        defaults={
            "cited": len(links),
            "resolved": resolved,
            "flagged": flagged,
            "note": note,
            "commit": course_import.commit if course_import else "",
        },
    )
    if flagged:
        _flag_conversation(lesson)
    return grounding


def _flag_conversation(lesson: Lesson) -> None:
    """The conversation that wrote the lesson goes to review (the admin's flagged list)."""
    from django.contrib.contenttypes.models import ContentType

    AIConversation.objects.filter(
        kind="lesson",
        target_type=ContentType.objects.get_for_model(Lesson),
        target_id=lesson.pk,
    ).update(flagged_for_review=True)


def _first_heading(text: str) -> str:
    from imports.repository import cut_on_headings

    sections, _ = cut_on_headings(text, max(1, len(text)))
    return next((s.heading for s in sections if s.heading), "")


def file_uri(repo_url: str, commit: str, path: str) -> str:
    """Where the file is at the commit: a GitHub or GitLab blob page, else the repository."""
    base = repo_url.rstrip("/").removesuffix(".git")
    if base.startswith(("https://github.com/", "https://gitlab.com/")):
        separator = "/-/blob/" if "gitlab.com" in base else "/blob/"
        return f"{base}{separator}{commit}/{path}"
    return f"{base}#{commit}:{path}" if base.startswith("https://") else ""
