"""Admin for imports: each import with its stages, and what each stage read and wrote."""

from typing import Any

from django.contrib import admin

from imports import models


class ReadOnly(admin.ModelAdmin):
    """Imports are written by their stages; the admin shows them."""

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class StageInline(admin.TabularInline):
    model = models.StageTask
    extra = 0
    can_delete = False
    fields = (
        "stage",
        "status",
        "progress",
        "current_step",
        "error_message",
        "attempts",
        "started_at",
        "completed_at",
    )
    readonly_fields = fields


@admin.register(models.CourseImport)
class CourseImportAdmin(ReadOnly):
    list_display = ("id", "course", "user", "repo_name", "commit", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("repo_url", "course__title", "user__username")
    list_select_related = ("course", "user")
    inlines = [StageInline]


@admin.register(models.StageTask)
class StageTaskAdmin(ReadOnly):
    list_display = ("id", "course_import", "stage", "status", "progress", "attempts", "updated_at")
    list_filter = ("stage", "status")


@admin.register(models.RepositoryFile)
class RepositoryFileAdmin(ReadOnly):
    list_display = (
        "path",
        "course_import",
        "file_type",
        "is_documentation",
        "size",
        "skipped_reason",
    )
    list_filter = ("file_type", "is_documentation", "skipped_reason")
    search_fields = ("path",)
    exclude = ("text",)


@admin.register(models.AnalyzedDocument)
class AnalyzedDocumentAdmin(ReadOnly):
    list_display = ("file_path", "course_import", "title", "doc_type", "cut", "cached", "model")
    list_filter = ("doc_type", "cut", "cached", "model")
    search_fields = ("file_path", "title")


@admin.register(models.AnalysisCache)
class AnalysisCacheAdmin(ReadOnly):
    list_display = ("content_hash", "prompt_version", "model", "created_at")


@admin.register(models.Pathway)
class PathwayAdmin(ReadOnly):
    list_display = ("title", "course_import", "position", "complexity_level")


@admin.register(models.PathwayModule)
class PathwayModuleAdmin(ReadOnly):
    list_display = ("title", "pathway", "sequence_order")


@admin.register(models.ModuleContent)
class ModuleContentAdmin(ReadOnly):
    list_display = ("pathway_module", "course_module", "generated_at")


@admin.register(models.LessonDocument)
class LessonDocumentAdmin(ReadOnly):
    list_display = ("lesson", "path", "source_changed", "generated_hash")
    list_filter = ("source_changed",)


@admin.register(models.LessonGrounding)
class LessonGroundingAdmin(ReadOnly):
    list_display = ("lesson", "resolved", "cited", "flagged", "commit", "checked_at")
    list_filter = ("flagged",)


for model in (
    models.Stage1Selection,
    models.Stage2Input,
    models.Stage3Input,
    models.Stage3Selection,
    models.GeneratedCourse,
):
    admin.site.register(model, ReadOnly)
