"""Celery tasks of the import's four stages: thin, by id, idempotent (delivery is at least
once; the stage row decides). Stage 1 works on the repository (`repo_analysis`), the others
wait on the model (`ai_processing`): routed by name in CELERY_TASK_ROUTES."""

import logging

from celery import Task, shared_task

from imports.services.runner import stage_run

logger = logging.getLogger(__name__)

OPTIONS = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": 0}


def _run(task: Task, import_id: int, stage: int) -> str:
    from imports.services import stage1, stage2, stage3, stage4

    bodies = {
        1: stage1.stage1_body,
        2: stage2.stage2_body,
        3: stage3.stage3_body,
        4: stage4.stage4_body,
    }
    outcome = stage_run(
        import_id=import_id, stage=stage, task_id=str(task.request.id), body=bodies[stage]
    )
    logger.info("import %s stage %s: %s", import_id, stage, outcome)
    return outcome


@shared_task(name="imports.tasks.repository_clone_task", **OPTIONS)
def repository_clone_task(self: Task, import_id: int) -> str:
    """Stage 1: fetch and scan the repository, store its folders and files."""
    return _run(self, import_id, 1)


@shared_task(name="imports.tasks.document_analyser_task", **OPTIONS)
def document_analyser_task(self: Task, import_id: int) -> str:
    """Stage 2: analyse each selected document (concurrently, within the bound)."""
    return _run(self, import_id, 2)


@shared_task(name="imports.tasks.learning_pathway_task", **OPTIONS)
def learning_pathway_task(self: Task, import_id: int) -> str:
    """Stage 3: two to four checked learning pathways."""
    return _run(self, import_id, 3)


@shared_task(name="imports.tasks.modules_generation_task", **OPTIONS)
def modules_generation_task(self: Task, import_id: int) -> str:
    """Stage 4: module content, the course's Modules and Lesson skeletons, the export."""
    return _run(self, import_id, 4)


STAGE_TASKS = {
    1: repository_clone_task,
    2: document_analyser_task,
    3: learning_pathway_task,
    4: modules_generation_task,
}
