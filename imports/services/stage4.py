"""Stage 4: each module's content, then the course's Modules and `pending` Lesson skeletons,
each lesson linked to the documents it draws on. Resumes at the module."""

from typing import Any

from django.db import transaction
from django.db.models import Max

from courses.models import Module
from imports.models import (
    CourseImport,
    GeneratedCourse,
    LessonDocument,
    ModuleContent,
    PathwayModule,
)
from imports.services.generation import generate_one
from imports.services.runner import StageRun
from lessons.models import Lesson

CONTENT_FIELDS = ("introduction", "main_content", "conclusion", "assessment", "summary")


def stage4_body(run: StageRun) -> tuple[str, dict[str, Any]]:
    course_import = CourseImport.objects.select_related("user", "stage3_selection__pathway").get(
        pk=run.lease.import_id
    )
    pathway = course_import.stage3_selection.pathway
    GeneratedCourse.objects.update_or_create(
        course_import=course_import,
        defaults={"pathway": pathway, "status": GeneratedCourse.Status.GENERATING},
    )
    try:
        modules = list(pathway.modules.order_by("sequence_order").prefetch_related("documents"))
        written = 0
        for index, module in enumerate(modules):
            if ModuleContent.objects.filter(pathway_module=module).exists():
                continue  # resumed: this module was written by an earlier attempt
            run.step(
                int(90 * index / len(modules)),
                f"Writing module {index + 1} of {len(modules)}: {module.title}...",
            )
            module_content_generate(course_import=course_import, module=module)
            written += 1
        run.step(92, "Creating the course's modules and lessons...")
        lessons = course_write(course_import=course_import, modules=modules)
    except BaseException:
        GeneratedCourse.objects.filter(course_import=course_import).update(
            status=GeneratedCourse.Status.FAILED
        )
        raise
    GeneratedCourse.objects.filter(course_import=course_import).update(
        status=GeneratedCourse.Status.COMPLETED
    )
    metadata = {"modules": len(modules), "written": written, "lessons": lessons}
    return "Course ready", metadata


def module_content_generate(*, course_import: CourseImport, module: PathwayModule) -> None:
    document_ids = sorted(d.pk for d in module.documents.all())
    outcome = generate_one(
        user=course_import.user,
        kind_name="import_module",
        content=f"Write the module “{module.title}”.",
        context={
            "import_id": course_import.pk,
            "pathway_module_id": module.pk,
            "document_ids": document_ids,
        },
        target=module,
    )
    data = outcome.data or {}
    ModuleContent.objects.update_or_create(
        pathway_module=module,
        defaults={
            **{name: data[name] for name in CONTENT_FIELDS},
            "lessons": data["lessons"],
            "message_id": outcome.message_id,
        },
    )


@transaction.atomic
def course_write(*, course_import: CourseImport, modules: list[PathwayModule]) -> int:
    """Replace the modules an import wrote before with this pathway's, lessons `pending`."""
    course = course_import.course
    Module.objects.filter(
        course=course, lessons__import_documents__isnull=False
    ).distinct().delete()
    top = Module.objects.filter(course=course).aggregate(top=Max("position"))["top"]
    start = 0 if top is None else top + 1
    lessons = 0
    for offset, module in enumerate(modules):
        content = ModuleContent.objects.get(pathway_module=module)
        course_module = Module.objects.create(
            course=course,
            position=start + offset,
            title=module.title[:200],
            description=module.description,
        )
        content.course_module = course_module
        content.save(update_fields=["course_module"])
        documents = {d.pk: d for d in module.documents.all()}
        for position, plan in enumerate(content.lessons):
            lesson = Lesson.objects.create(
                course=course,
                module=course_module,
                position=position,
                title=plan["title"][:200],
                description=plan.get("description", ""),
                objectives=plan.get("objectives", []),
                estimated_minutes=plan.get("estimated_minutes"),
            )
            for order, document_id in enumerate(plan["document_ids"]):
                document = documents.get(document_id)
                if document is not None:
                    LessonDocument.objects.get_or_create(
                        lesson=lesson,
                        path=document.file_path,
                        defaults={"document": document, "position": order},
                    )
            lessons += 1
    return lessons
