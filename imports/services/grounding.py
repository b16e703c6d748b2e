"""Lessons grounded in their documents (docs/imports.md, "Grounded lessons")."""

from imports.models import CourseImport, LessonDocument, RepositoryFile


def lessons_mark_changed(*, course_import: CourseImport) -> int:
    """After a re-import: mark each lesson link whose file differs from (or is missing in)
    the version the lesson was generated from. Returns how many lessons that marks."""
    current = dict(
        RepositoryFile.objects.filter(
            course_import=course_import, file_type=RepositoryFile.Type.FILE, skipped_reason=""
        ).values_list("path", "content_hash")
    )
    links = LessonDocument.objects.filter(lesson__course_id=course_import.course_id).exclude(
        generated_hash=""
    )
    changed = [link for link in links if current.get(link.path) != link.generated_hash]
    LessonDocument.objects.filter(pk__in=[link.pk for link in changed]).update(source_changed=True)
    return len({link.lesson_id for link in changed})
