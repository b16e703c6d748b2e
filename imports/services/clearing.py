"""What restarting a stage throws away: its own results and everything after it."""

from imports.models import (
    AnalyzedDocument,
    CourseImport,
    GeneratedCourse,
    ModuleContent,
    Pathway,
    RepositoryFile,
    Stage1Selection,
    Stage2Input,
    Stage3Input,
    Stage3Selection,
)


def results_clear(*, course_import: CourseImport, from_stage: int) -> None:
    """Delete the results of `from_stage` and later, and the choices made after `from_stage`
    (the input a stage is started with is saved just before it is queued, so it stays).

    The course's Modules and Lessons are not results here: stage 4 replaces its own when it
    runs, and a re-import keeps them so that lessons whose files changed can be marked.
    """
    scoped = {"course_import": course_import}
    if from_stage <= 4:
        ModuleContent.objects.filter(pathway_module__pathway__course_import=course_import).delete()
        GeneratedCourse.objects.filter(**scoped).delete()
    if from_stage <= 3:
        Stage3Selection.objects.filter(**scoped).delete()
        Pathway.objects.filter(**scoped).delete()
    if from_stage <= 2:
        Stage3Input.objects.filter(**scoped).delete()
        AnalyzedDocument.objects.filter(**scoped).delete()
    if from_stage <= 1:
        Stage2Input.objects.filter(**scoped).delete()
        Stage1Selection.objects.filter(**scoped).delete()
        RepositoryFile.objects.filter(**scoped).delete()
