"""Stage 3: two to four learning pathways over the analysed documents, checked by the kind
(prerequisites first, every document used or left out) before they are stored."""

from typing import Any

from django.db import transaction

from imports.exceptions import StageFailed
from imports.models import AnalyzedDocument, CourseImport, Pathway, PathwayModule, Stage3Input
from imports.services.generation import generate_one
from imports.services.runner import StageRun


def stage3_body(run: StageRun) -> tuple[str, dict[str, Any]]:
    course_import = CourseImport.objects.select_related("user").get(pk=run.lease.import_id)
    existing = Pathway.objects.filter(course_import=course_import).count()
    if existing:  # a retried delivery after the pathways were stored: nothing is missing
        return "Learning pathways ready", {"pathways": existing, "resumed": True}
    document_ids = list(
        AnalyzedDocument.objects.filter(course_import=course_import)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not document_ids:
        raise StageFailed("No document was analysed; run stage 2 first.")
    notes = (
        Stage3Input.objects.filter(course_import=course_import)
        .values_list("additional_info", flat=True)
        .first()
    )
    run.step(20, f"Designing learning pathways from {len(document_ids)} documents...")
    outcome = generate_one(
        user=course_import.user,
        kind_name="import_pathways",
        content="Design learning pathways through these documents.",
        context={
            "import_id": course_import.pk,
            "document_ids": document_ids,
            "additional_info": notes or "",
        },
        target=course_import,
    )
    run.step(90, "Saving the checked pathways...")
    count = pathways_save(
        course_import=course_import, data=outcome.data or {}, message_id=outcome.message_id
    )
    return "Learning pathways ready", {"pathways": count}


@transaction.atomic
def pathways_save(*, course_import: CourseImport, data: dict[str, Any], message_id: str) -> int:
    Pathway.objects.filter(course_import=course_import).delete()
    documents = {d.pk: d for d in AnalyzedDocument.objects.filter(course_import=course_import)}
    for position, plan in enumerate(data["pathways"]):
        pathway = Pathway.objects.create(
            course_import=course_import,
            position=position,
            message_id=message_id,
            left_out=plan.get("left_out", []),
            **{
                k: plan[k]
                for k in (
                    "title",
                    "description",
                    "complexity_level",
                    "estimated_duration",
                    "prerequisites",
                )
            },
        )
        for order, module_plan in enumerate(plan["modules"], start=1):
            module = PathwayModule.objects.create(
                pathway=pathway,
                sequence_order=order,
                **{
                    k: module_plan[k]
                    for k in ("title", "description", "learning_objectives", "estimated_time")
                },
            )
            module.documents.set([documents[i] for i in module_plan["document_ids"]])
    return len(data["pathways"])
