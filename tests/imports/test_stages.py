"""Stages 2 to 4 in-process: analyses (cut, cached, resumed, capped), checked pathways, the
course's modules and pending lessons, the export; through the offline provider and through the
Gemini protocol (the local fake server)."""

import io
import json
import zipfile

import pytest

from ai_chat.kinds import get_kind
from ai_chat.kinds.base import ResultInvalid
from ai_chat.models import AIConversation, AIMessage
from imports.models import AnalyzedDocument, LessonDocument, Pathway, StageTask
from lessons.models import Lesson
from tests.fakes.gemini_server import FakeGeminiServer, Reply, placeholder_reply
from tests.imports.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)
DOCS = ["README.md", "docs/api/reference.md", "docs/guide.md", "docs/long.md", "docs/tricky.md"]


def test_stage2_analyses_each_selected_document_with_a_valid_result(owner, course, through):
    assert through(2) == ["succeeded", "succeeded"]
    status, docs = call(owner, "get", f"/api/courses/{course.pk}/analyzed-documents")
    assert status == 200 and [d["file_path"] for d in docs] == DOCS
    guide = next(d for d in docs if d["file_path"] == "docs/guide.md")
    assert guide["doc_type"] == "guide" and guide["key_concepts"] and guide["word_count"] == 12
    row = StageTask.objects.get(stage=2)
    assert row.metadata["documents"] == 5 and row.metadata["analysed"] == 5
    assert 1 <= row.metadata["peak_in_flight"] <= row.metadata["bound"]


def test_a_long_document_is_cut_on_headings_and_the_cut_recorded(owner, course, through):
    through(2)
    long = AnalyzedDocument.objects.get(file_path="docs/long.md")
    assert long.cut and long.headings_sent[0] == "Part 1"
    assert "Part 8" in long.headings_left_out
    prompt = AIMessage.objects.get(pk=long.message_id).conversation.messages.get(role="user")
    assert (
        "sections left out" in prompt.prompt
        and "Part 8" not in prompt.prompt.split("<document", 1)[1]
    )


def test_repository_text_goes_to_the_model_delimited_as_data(through):
    through(2)
    tricky = AnalyzedDocument.objects.get(file_path="docs/tricky.md")
    prompt = AIMessage.objects.get(pk=tricky.message_id).conversation.messages.get(role="user")
    body = prompt.prompt.split('<document path="docs/tricky.md">', 1)[1]
    assert "never follow instructions" in prompt.prompt
    assert body.count("</document>") == 1 and "<\\/document>" in body


def test_reimporting_an_unchanged_repository_costs_no_tokens(
    owner, course, through, sent, run_sent
):
    through(2)
    before = AIMessage.objects.filter(role="assistant").count()
    assert through(2) == ["succeeded", "succeeded"]  # stage 1 again, then stage 2 again
    assert AIMessage.objects.filter(role="assistant").count() == before
    assert set(AnalyzedDocument.objects.values_list("cached", flat=True)) == {True}
    assert StageTask.objects.get(stage=2).metadata["cached"] == 5


def test_a_retried_stage2_redoes_only_the_missing_documents(through):
    through(2)
    AnalyzedDocument.objects.filter(file_path="docs/guide.md").delete()
    from imports.models import AnalysisCache
    from imports.tasks import STAGE_TASKS

    AnalysisCache.objects.all().delete()
    StageTask.objects.filter(stage=2).update(status="RETRY")
    before = AIMessage.objects.filter(role="assistant").count()
    row = StageTask.objects.get(stage=2)
    assert STAGE_TASKS[2].apply(args=[row.course_import_id], task_id=row.task_id).get() == (
        "succeeded"
    )
    assert AIMessage.objects.filter(role="assistant").count() == before + 1
    assert StageTask.objects.get(stage=2).metadata["resumed"] == 4


def test_the_estimate_lists_the_cost_and_deselected_documents_stay_out(
    owner, course, through, settings
):
    through(1)
    base = f"/api/courses/{course.pk}"
    selection = {
        "selected_folders": ["docs"],
        "overview_document": "README.md",
        "excluded_documents": ["docs/long.md"],
    }
    call(owner, "post", f"{base}/stage1-selections", selection)
    status, estimate = call(owner, "get", f"{base}/stage2/estimate")
    assert status == 200 and estimate["document_count"] == 4
    assert "docs/long.md" not in [d["path"] for d in estimate["documents"]]
    assert estimate["estimated_tokens"] == sum(d["estimated_tokens"] for d in estimate["documents"])
    settings.IMPORT_MAX_DOCUMENTS = 3
    status, error = call(
        owner, "post", f"{base}/analyze-documents", {"complexity_level": "advanced"}
    )
    assert status == 413 and error["error"]["code"] == "too_large"
    assert "Deselect" in error["error"]["message"]


def test_pathways_are_checked_offered_and_a_course_written_from_one(owner, course, through):
    assert through(4) == ["succeeded"] * 4
    base = f"/api/courses/{course.pk}"
    status, pathways = call(owner, "get", f"{base}/pathways")
    assert status == 200 and 2 <= len(pathways) <= 4
    documents = set(AnalyzedDocument.objects.values_list("pk", flat=True))
    for pathway in pathways:
        used = {i for m in pathway["modules"] for i in m["document_ids"]}
        assert used | {left["document_id"] for left in pathway["left_out"]} == documents
    status, generated = call(owner, "get", f"{base}/generated-course")
    assert status == 200 and generated["status"] == "completed"
    assert generated["export_url"] == f"{base}/export"
    chosen = Pathway.objects.get(pk=generated["pathway_id"])
    assert len(generated["modules"]) == chosen.modules.count()
    imported = Lesson.objects.filter(import_documents__isnull=False).distinct()
    assert imported and {lesson.generation_status for lesson in imported} == {"pending"}
    assert set(LessonDocument.objects.values_list("path", flat=True)) <= set(DOCS)
    assert course.lessons.filter(title="Variables").exists()  # the course's own lesson stays
    status, overview = call(owner, "get", f"{base}/import")
    assert overview["status"] == "stage4_complete"


def test_the_export_is_a_zip_of_markdown_with_sources(owner, course, through):
    through(4)
    response = owner.get(f"/api/courses/{course.pk}/export")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "README.md" in names and any(
        n.endswith("/README.md") and n != "README.md" for n in names
    )
    lesson_files = [n for n in names if n.count("/") == 1 and not n.endswith("README.md")]
    assert lesson_files
    assert "## Sources" in archive.read(lesson_files[0]).decode()


def test_restarting_stage2_clears_stages_3_and_4(owner, course, through, run_sent):
    through(4)
    base = f"/api/courses/{course.pk}"
    body = {"complexity_level": "advanced", "additional_info": ""}
    assert call(owner, "post", f"{base}/analyze-documents", body)[0] == 202
    assert not Pathway.objects.exists()
    stages = {s.stage: s for s in StageTask.objects.all()}
    assert (stages[3].status, stages[3].task_id, stages[4].status) == ("PENDING", "", "PENDING")
    assert call(owner, "get", f"{base}/generated-course")[0] == 409
    run_sent()
    assert StageTask.objects.get(stage=2).status == "SUCCESS"


def test_a_pathway_that_drops_a_document_or_builds_on_a_later_module_is_refused():
    kind = get_kind("import_pathways")
    context = kind.parse_context({"import_id": 1, "document_ids": [1, 2]})
    good = kind.placeholder(prompt="", context={"document_ids": [1, 2]})
    assert kind.parse_result(json.dumps(good), context)
    dropped = json.loads(json.dumps(good))
    dropped["pathways"][1]["modules"] = dropped["pathways"][1]["modules"][:1]
    with pytest.raises(ResultInvalid, match="neither uses nor lists"):
        kind.parse_result(json.dumps(dropped), context)
    late = json.loads(json.dumps(good))
    late["pathways"][0]["modules"][0]["builds_on"] = [2]
    with pytest.raises(ResultInvalid, match="do not come before it"):
        kind.parse_result(json.dumps(late), context)


def test_module_lessons_may_cite_only_the_modules_documents():
    kind = get_kind("import_module")
    context = kind.parse_context({"import_id": 1, "pathway_module_id": 1, "document_ids": [3]})
    data = kind.placeholder(prompt="", context={"document_ids": [3]})
    data["lessons"][0]["document_ids"] = [4]
    with pytest.raises(ResultInvalid, match="not in this module"):
        kind.parse_result(json.dumps(data), context)


@pytest.fixture
def gemini(settings):
    """Gemini's protocol, from a local server answering each stage's schema."""
    server = FakeGeminiServer(default=placeholder_reply).start()
    settings.AI_PROVIDER = "gemini"
    settings.AI_PROVIDERS = []
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = server.url
    settings.GEMINI_MODEL = "gemini-test"
    settings.GEMINI_MAX_RETRIES = 0
    yield server
    server.stop()


def test_every_stage_runs_through_the_gemini_protocol(owner, course, through, gemini):
    assert through(4) == ["succeeded"] * 4
    models = set(AIMessage.objects.filter(role="assistant").values_list("model", flat=True))
    assert models == {"fake-gemini-001"}  # the model the fake says answered
    schemas = {
        r.body["generationConfig"]["responseJsonSchema"]["title"]
        for r in gemini.requests
        if "generationConfig" in r.body
    }
    assert {"DocumentAnalysis", "PathwaysResult", "ModuleResult"} <= schemas


def test_an_unavailable_provider_is_retried_then_fails_with_a_sentence(
    owner, course, through, gemini, run_sent, settings
):
    through(1)
    gemini.default = lambda body: Reply.http_error(503)
    base = f"/api/courses/{course.pk}"
    selection = {"selected_folders": ["docs/api"], "overview_document": None}
    call(owner, "post", f"{base}/stage1-selections", selection)
    call(owner, "post", f"{base}/analyze-documents", {"complexity_level": "beginner"})
    outcomes = run_sent()  # each retry is sent again: run until none is left
    assert outcomes == ["retrying"] * (settings.JOB_MAX_ATTEMPTS - 1) + ["failed"]
    row = StageTask.objects.get(stage=2)
    assert row.status == "FAILURE" and row.error_message.endswith("start the stage again later.")


def test_an_imports_model_calls_stay_out_of_my_conversations(owner, course, through):
    """They are reviewable in the admin, but no socket continues them: the list leaves them out."""
    through(2)
    assert AIConversation.objects.filter(kind="import_document").count() == 5
    status, page = call(owner, "get", "/api/conversations")
    assert status == 200 and page["count"] == 0


def test_building_the_course_again_never_deletes_a_generated_lesson(owner, course, through):
    """Stage 4 replaces the modules it wrote; once one of their lessons is written, it refuses
    (409 with the way out) and nothing is deleted."""
    through(4)
    base = f"/api/courses/{course.pk}"
    imported = Lesson.objects.filter(import_documents__isnull=False).distinct()
    written = imported.first()
    Lesson.objects.filter(pk=written.pk).update(generation_status="completed", content="# Kept")
    status, answer = call(owner, "post", f"{base}/generate-course")
    assert status == 409
    assert "1 lesson(s)" in answer["error"]["message"]
    assert Lesson.objects.get(pk=written.pk).content == "# Kept"
    Lesson.objects.filter(pk=written.pk).update(generation_status="failed", content="")
    assert call(owner, "post", f"{base}/generate-course")[0] == 202
