"""Lessons of an import are written from their documents and cite them; citations that do not
resolve are dropped and flagged; a re-import marks lessons whose files changed."""

import pytest

from ai_chat.models import AIConversation, AIMessage
from imports.models import LessonDocument, LessonGrounding, RepositoryFile
from jobs.services.requests import lesson_generate_request
from jobs.services.run import job_run
from lessons.models import LessonSource
from tests.imports.conftest import call, commit_change

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def jobs_sent(monkeypatch):
    monkeypatch.setattr("jobs.services.queue._send", lambda job_id, task, countdown: None)


def generate(user, lesson) -> str:
    job = lesson_generate_request(user=user, lesson_id=lesson.pk, force=True).job
    return job_run(job_id=job.pk)


def imported_lesson(path: str):
    return LessonDocument.objects.filter(path=path).select_related("lesson").first().lesson


def test_a_generated_lesson_is_written_from_its_documents_and_cites_them(
    owner, user, course, through
):
    through(4)
    lesson = imported_lesson("docs/guide.md")
    assert generate(user, lesson) == "succeeded"
    prompt = AIMessage.objects.filter(conversation__kind="lesson", role="user").latest("created_at")
    assert '<document path="docs/guide.md">' in prompt.prompt
    assert "Run `pip install widget`." in prompt.prompt
    sources = LessonSource.objects.filter(lesson=lesson, kind="document")
    assert [(s.path, s.heading) for s in sources] == [("docs/guide.md", "Guide")]
    assert len(sources[0].commit) == 40
    check = LessonGrounding.objects.get(lesson=lesson)
    assert (check.cited, check.resolved, check.flagged) == (1, 1, False)
    assert check.note.startswith("1 of 1 sources resolved")
    status, detail = call(owner, "get", f"/api/lessons/{lesson.pk}")
    assert status == 200 and detail["generation_status"] == "completed"
    [cited] = detail["sources"]
    where = (cited["kind"], cited["path"], cited["heading"])
    assert where == ("document", "docs/guide.md", "Guide")
    assert cited["commit"] == sources[0].commit


def test_a_source_that_does_not_resolve_is_dropped_and_the_lesson_flagged(
    owner, user, course, through
):
    through(4)
    lesson = imported_lesson("docs/guide.md")
    LessonDocument.objects.create(lesson=lesson, path="docs/gone.md", position=5)
    assert generate(user, lesson) == "succeeded"
    assert list(
        LessonSource.objects.filter(lesson=lesson, kind="document").values_list("path", flat=True)
    ) == ["docs/guide.md"]
    check = LessonGrounding.objects.get(lesson=lesson)
    assert (check.cited, check.resolved, check.flagged) == (2, 1, True)
    assert check.note.startswith("1 of 2 sources resolved")
    assert AIConversation.objects.get(kind="lesson").flagged_for_review
    _, overview = call(owner, "get", f"/api/courses/{course.pk}/import")
    assert {
        "lesson_id": lesson.pk,
        "cited": 2,
        "resolved": 1,
        "flagged": True,
        "note": check.note,
    } in overview["grounding"]


def test_reimporting_marks_the_lessons_whose_files_changed(
    owner, user, course, through, docs_repo, run_sent
):
    through(4)
    guide = imported_lesson("docs/guide.md")
    reference = imported_lesson("docs/api/reference.md")
    assert generate(user, guide) == "succeeded" and generate(user, reference) == "succeeded"
    commit_change(docs_repo, "docs/guide.md", "# Guide\n\nA new way to install.\n")
    body = {"repo_url": str(docs_repo)}
    assert call(owner, "post", f"/api/courses/{course.pk}/analyze-repository", body)[0] == 202
    run_sent()
    _, overview = call(owner, "get", f"/api/courses/{course.pk}/import")
    assert overview["changed_lessons"] == [guide.pk]
    assert RepositoryFile.objects.get(path="docs/guide.md").text.startswith("# Guide\n\nA new")
    guide.refresh_from_db()
    assert guide.generation_status == "completed"  # kept: an instructor decides to regenerate


def test_the_document_sources_are_there_when_the_completion_is_announced(
    owner, user, course, through, monkeypatch
):
    """A page told that the lesson completed reads its sources at once: they commit with the
    content, before the `generation` event goes out."""
    through(4)
    lesson = imported_lesson("docs/guide.md")
    seen: list[int] = []

    def publish(*, room: str, event: str, action: str, payload: dict) -> None:
        if payload["generation_status"] == "completed" and room.startswith("lesson:"):
            rows = LessonSource.objects.filter(lesson_id=payload["lesson_id"], kind="document")
            seen.append(rows.count())

    monkeypatch.setattr("learning.lesson_events.publish_event", publish)
    assert generate(user, lesson) == "succeeded"
    assert seen == [1]
