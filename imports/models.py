"""The repository import's tables (docs/imports.md): one import per course, a row per stage,
and what each stage read, chose and wrote."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class CourseImport(models.Model):
    """A course's import: which repository, at which commit, and how far it has come."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        STAGE1_RUNNING = "stage1_running"
        STAGE1_COMPLETE = "stage1_complete"
        STAGE1_FAILED = "stage1_failed"
        STAGE2_RUNNING = "stage2_running"
        STAGE2_COMPLETE = "stage2_complete"
        STAGE2_FAILED = "stage2_failed"
        STAGE3_RUNNING = "stage3_running"
        STAGE3_COMPLETE = "stage3_complete"
        STAGE3_FAILED = "stage3_failed"
        STAGE4_RUNNING = "stage4_running"
        STAGE4_COMPLETE = "stage4_complete"
        STAGE4_FAILED = "stage4_failed"

    course = models.OneToOneField(
        "courses.Course", on_delete=models.CASCADE, related_name="repository_import"
    )
    # Who started it: their budget pays for the model calls, their `user:` room hears events.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_imports"
    )
    repo_url = models.CharField(max_length=2000)
    repo_name = models.CharField(max_length=300, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"import of {self.repo_name or self.repo_url} into course {self.course_id}"


class StageTask(models.Model):
    """One stage of an import as the plan tracks it; the lease notices a worker that died."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        STARTED = "STARTED"
        SUCCESS = "SUCCESS"
        FAILURE = "FAILURE"
        RETRY = "RETRY"

    ACTIVE = (Status.PENDING, Status.STARTED, Status.RETRY)

    course_import = models.ForeignKey(CourseImport, on_delete=models.CASCADE, related_name="stages")
    stage = models.PositiveSmallIntegerField()
    task_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=500, blank=True)
    error_message = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_token = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course_import", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["course_import", "stage"], name="import_stage_unique"),
            models.CheckConstraint(
                condition=Q(stage__gte=1, stage__lte=4), name="import_stage_1_4"
            ),
        ]
        indexes = [models.Index(fields=["status", "lease_expires_at"])]

    def __str__(self) -> str:
        return f"stage {self.stage} of import {self.course_import_id} ({self.status})"


class RepositoryFile(models.Model):
    """A folder or file of the repository as stage 1 read it; a skipped file keeps its reason."""

    class Type(models.TextChoices):
        FOLDER = "folder"
        FILE = "file"

    course_import = models.ForeignKey(CourseImport, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1000)
    file_type = models.CharField(max_length=10, choices=Type.choices, default=Type.FILE)
    is_documentation = models.BooleanField(default=False)
    is_overview_candidate = models.BooleanField(default=False)
    size = models.PositiveBigIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    skipped_reason = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["course_import", "path"])]

    def __str__(self) -> str:
        return self.path or "(root)"


class Stage1Selection(models.Model):
    course_import = models.OneToOneField(
        CourseImport, on_delete=models.CASCADE, related_name="stage1_selection"
    )
    selected_folders = models.JSONField(default=list)
    overview_document = models.CharField(max_length=1000, blank=True)
    # Documents of the selected folders the user left out before stage 2 (its cost estimate).
    excluded_documents = models.JSONField(default=list, blank=True)
    selected_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"folders {self.selected_folders} of import {self.course_import_id}"


class Stage2Input(models.Model):
    class Complexity(models.TextChoices):
        BEGINNER = "beginner"
        INTERMEDIATE = "intermediate"
        ADVANCED = "advanced"

    course_import = models.OneToOneField(
        CourseImport, on_delete=models.CASCADE, related_name="stage2_input"
    )
    complexity_level = models.CharField(max_length=20, choices=Complexity.choices)
    additional_info = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.complexity_level} for import {self.course_import_id}"


class AnalyzedDocument(models.Model):
    """Stage 2's validated analysis of one document; `cut` says the model saw only a part."""

    course_import = models.ForeignKey(
        CourseImport, on_delete=models.CASCADE, related_name="documents"
    )
    file = models.ForeignKey(RepositoryFile, on_delete=models.CASCADE, related_name="analyses")
    file_path = models.CharField(max_length=1000)
    content_hash = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    doc_type = models.CharField(max_length=30)
    complexity_level = models.CharField(max_length=20)
    key_concepts = models.JSONField(default=list)
    learning_objectives = models.JSONField(default=list)
    summary = models.TextField()
    prerequisites = models.JSONField(default=list)
    related_topics = models.JSONField(default=list)
    word_count = models.PositiveIntegerField(default=0)
    # The cut on headings: the sections' headings sent, and those left out to fit the context.
    cut = models.BooleanField(default=False)
    headings_sent = models.JSONField(default=list, blank=True)
    headings_left_out = models.JSONField(default=list, blank=True)
    cached = models.BooleanField(default=False, help_text="Taken from the analysis cache.")
    message = models.ForeignKey(
        "ai_chat.AIMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=50, blank=True)
    analyzed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["file_path"]
        constraints = [
            models.UniqueConstraint(fields=["course_import", "file"], name="analysis_one_per_file")
        ]

    def __str__(self) -> str:
        return self.file_path


# What the model answers about a document (the `import_document` kind's result).
ANALYSIS_FIELDS = (
    "title",
    "doc_type",
    "complexity_level",
    "key_concepts",
    "learning_objectives",
    "summary",
    "prerequisites",
    "related_topics",
)


class AnalysisCache(models.Model):
    """An analysis by what it depends on: re-importing unchanged files costs no tokens."""

    content_hash = models.CharField(max_length=64)
    prompt_version = models.CharField(max_length=50)
    model = models.CharField(max_length=100)
    # The stage 2 inputs (complexity, notes) the analysis was asked with, hashed.
    inputs_hash = models.CharField(max_length=64)
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_hash", "prompt_version", "model", "inputs_hash"],
                name="analysis_cache_key",
            )
        ]

    def __str__(self) -> str:
        return f"analysis of {self.content_hash[:12]} ({self.prompt_version}, {self.model})"


class Stage3Input(models.Model):
    course_import = models.OneToOneField(
        CourseImport, on_delete=models.CASCADE, related_name="stage3_input"
    )
    additional_info = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"pathway notes for import {self.course_import_id}"


class Pathway(models.Model):
    """A learning pathway offered by stage 3, checked before it is offered."""

    course_import = models.ForeignKey(
        CourseImport, on_delete=models.CASCADE, related_name="pathways"
    )
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    complexity_level = models.CharField(max_length=20, blank=True)
    estimated_duration = models.CharField(max_length=100, blank=True)
    prerequisites = models.JSONField(default=list, blank=True)
    # Selected documents the pathway does not use, each with why: [{"document_id", "reason"}].
    left_out = models.JSONField(default=list, blank=True)
    message = models.ForeignKey(
        "ai_chat.AIMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course_import", "position"]

    def __str__(self) -> str:
        return self.title


class PathwayModule(models.Model):
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    sequence_order = models.PositiveSmallIntegerField()
    learning_objectives = models.JSONField(default=list, blank=True)
    estimated_time = models.CharField(max_length=100, blank=True)
    documents = models.ManyToManyField(AnalyzedDocument, related_name="pathway_modules")

    class Meta:
        ordering = ["pathway", "sequence_order"]

    def __str__(self) -> str:
        return self.title


class Stage3Selection(models.Model):
    course_import = models.OneToOneField(
        CourseImport, on_delete=models.CASCADE, related_name="stage3_selection"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="+")
    selected_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"pathway {self.pathway_id} for import {self.course_import_id}"


class GeneratedCourse(models.Model):
    class Status(models.TextChoices):
        GENERATING = "generating"
        COMPLETED = "completed"
        FAILED = "failed"

    course_import = models.OneToOneField(
        CourseImport, on_delete=models.CASCADE, related_name="generated_course"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.GENERATING)
    generated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"course of import {self.course_import_id} ({self.status})"


class ModuleContent(models.Model):
    """Stage 4's content of one pathway module, and the course module it became."""

    pathway_module = models.OneToOneField(
        PathwayModule, on_delete=models.CASCADE, related_name="content"
    )
    course_module = models.ForeignKey(
        "courses.Module", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    introduction = models.TextField()
    main_content = models.TextField()
    conclusion = models.TextField()
    assessment = models.TextField()
    summary = models.TextField()
    # The lessons planned for the module, each with the document ids it draws on.
    lessons = models.JSONField(default=list)
    message = models.ForeignKey(
        "ai_chat.AIMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"content of module {self.pathway_module_id}"


class LessonDocument(models.Model):
    """A lesson written by stage 4 draws on this document: its text grounds the lesson."""

    lesson = models.ForeignKey(
        "lessons.Lesson", on_delete=models.CASCADE, related_name="import_documents"
    )
    document = models.ForeignKey(
        AnalyzedDocument, on_delete=models.SET_NULL, null=True, related_name="lessons"
    )
    position = models.PositiveSmallIntegerField(default=0)
    path = models.CharField(max_length=1000)
    # The file's hash when the lesson was last generated from it (empty: not generated yet).
    generated_hash = models.CharField(max_length=64, blank=True)
    # A later import read a different version of the file: the lesson may need regenerating.
    source_changed = models.BooleanField(default=False)

    class Meta:
        ordering = ["lesson", "position"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "path"], name="lesson_document_once")
        ]

    def __str__(self) -> str:
        return f"{self.path} for lesson {self.lesson_id}"


class LessonGrounding(models.Model):
    """The citation check of a lesson's last generation from its documents."""

    lesson = models.OneToOneField(
        "lessons.Lesson", on_delete=models.CASCADE, related_name="import_grounding"
    )
    cited = models.PositiveSmallIntegerField(default=0)
    resolved = models.PositiveSmallIntegerField(default=0)
    # Some sources did not resolve to stored text at the import's commit: they were dropped.
    flagged = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    checked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"lesson {self.lesson_id}: {self.resolved} of {self.cited} sources resolved"
