"""Stage 4's course as the API shows it, and as a zip of Markdown files."""

import io
import re
import zipfile
from typing import Any

from imports.exceptions import StageConflict
from imports.models import GeneratedCourse, ModuleContent
from imports.selectors import AnyUser, import_get


def _generated(*, user: AnyUser, course_id: int) -> GeneratedCourse:
    course_import = import_get(user=user, course_id=course_id)
    generated = (
        GeneratedCourse.objects.filter(course_import=course_import).first()
        if course_import
        else None
    )
    if generated is None:
        raise StageConflict("Stage 4 has not run; start it with POST generate-course.")
    return generated


def generated_course(*, user: AnyUser, course_id: int) -> dict[str, Any]:
    """Stage 4's result: its status, pathway and module contents (the API adds the course)."""
    generated = _generated(user=user, course_id=course_id)
    contents = ModuleContent.objects.filter(pathway_module__pathway=generated.pathway_id).order_by(
        "pathway_module__sequence_order"
    )
    completed = generated.status == GeneratedCourse.Status.COMPLETED
    return {
        "status": generated.status,
        "pathway_id": generated.pathway_id,
        "modules": [
            {
                "module_id": c.course_module_id,
                "introduction": c.introduction,
                "main_content": c.main_content,
                "conclusion": c.conclusion,
                "assessment": c.assessment,
                "summary": c.summary,
            }
            for c in contents
        ],
        "export_url": f"/api/courses/{course_id}/export" if completed else None,
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "untitled"


def course_export_zip(*, user: AnyUser, course_id: int) -> tuple[str, bytes]:
    """(file name, zip bytes): README.md, then per module its content and one file per lesson
    (the lesson's content once generated, else its skeleton and sources)."""
    generated = _generated(user=user, course_id=course_id)
    if generated.status != GeneratedCourse.Status.COMPLETED:
        raise StageConflict("The course is not generated yet; wait for stage 4 to complete.")
    course = generated.course_import.course
    contents = {
        c.course_module_id: c
        for c in ModuleContent.objects.filter(pathway_module__pathway=generated.pathway_id)
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.md", f"# {course.title}\n\n{course.description}\n")
        for module in course.modules.order_by("position").prefetch_related("lessons"):
            folder = f"{module.position + 1:02d}-{_slug(module.title)}"
            content = contents.get(module.pk)
            parts = [f"# {module.title}", module.description]
            if content is not None:
                parts += [
                    content.introduction,
                    content.main_content,
                    content.conclusion,
                    "## Assessment",
                    content.assessment,
                    "## Summary",
                    content.summary,
                ]
            archive.writestr(f"{folder}/README.md", "\n\n".join(p for p in parts if p) + "\n")
            for lesson in module.lessons.order_by("position"):
                paths = [d.path for d in lesson.import_documents.all()]
                body = lesson.content or "\n".join(
                    [lesson.description, "", *[f"- {o}" for o in lesson.objectives]]
                )
                sources = "\n".join(f"- `{p}`" for p in paths)
                text = f"# {lesson.title}\n\n{body}\n\n## Sources\n\n{sources}\n"
                archive.writestr(
                    f"{folder}/{lesson.position + 1:02d}-{_slug(lesson.title)}.md", text
                )
    return f"{_slug(course.title)}.zip", buffer.getvalue()
