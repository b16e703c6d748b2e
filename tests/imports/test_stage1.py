"""Stage 1 through the API: a local repository fetched, scanned and stored; its progress as
events; the stage's status, the import's, and the order the stages must go in."""

import datetime as dt

import pytest
from django.utils import timezone

from imports.models import CourseImport, RepositoryFile, StageTask
from imports.services.sweep import imports_sweep
from tests.imports.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def start(client, course, url):
    return call(client, "post", f"/api/courses/{course.pk}/analyze-repository", {"repo_url": url})


def test_stage1_stores_the_repository_and_reports_each_step(
    owner, user, course, docs_repo, run_sent, events
):
    """202 with a task; the worker's steps reach the course's and the importer's rooms."""
    status, body = start(owner, course, str(docs_repo))
    assert status == 202 and body["status"] == "started" and body["task_id"]
    status, queued = call(owner, "get", f"/api/courses/{course.pk}/stage1/status")
    assert (queued["status"], queued["task_id"]) == ("PENDING", body["task_id"])
    assert run_sent() == ["succeeded"]
    status, done = call(owner, "get", f"/api/courses/{course.pk}/stage1/status")
    assert (done["status"], done["progress"], done["current_step"]) == (
        "SUCCESS",
        100,
        "Repository analysis complete",
    )
    assert done["error_message"] is None and done["started_at"] and done["completed_at"]
    steps = [p["current_step"] for room, p in events if room == f"course:{course.pk}"]
    for step in (
        "Cloning repository...",
        "Scanning files...",
        "Saving to database...",
        "Repository analysis complete",
    ):
        assert step in steps
    assert [p for room, p in events if room == f"user:{user.pk}"] == [
        p for room, p in events if room == f"course:{course.pk}"
    ]
    assert events[-1][1] == {
        "course_id": course.pk,
        "stage": "stage1",
        "status": "SUCCESS",
        "progress": 100,
        "current_step": "Repository analysis complete",
    }


def test_repository_files_list_folders_documents_and_what_was_skipped(
    owner, course, docs_repo, run_sent
):
    start(owner, course, str(docs_repo))
    run_sent()
    status, files = call(owner, "get", f"/api/courses/{course.pk}/repository-files")
    assert status == 200
    assert {"docs", "docs/api", "src"} <= set(files["folders"])
    paths = {f["path"]: f for f in files["files"]}
    assert paths["docs/guide.md"]["is_documentation"]
    assert "README.md" in files["overview_candidates"]
    assert {"path": ".env", "reason": "secret"} in files["skipped"]
    assert len(files["commit"]) == 40


def test_the_import_status_moves_with_the_stage(owner, course, docs_repo, run_sent):
    start(owner, course, str(docs_repo))
    _, overview = call(owner, "get", f"/api/courses/{course.pk}/import")
    assert overview["status"] == "stage1_running"
    assert [s["stage"] for s in overview["stages"]] == ["stage1", "stage2", "stage3", "stage4"]
    run_sent()
    _, overview = call(owner, "get", f"/api/courses/{course.pk}/import")
    assert overview["status"] == "stage1_complete" and len(overview["commit"]) == 40
    assert overview["stages"][1] == {**overview["stages"][1], "status": "PENDING", "task_id": None}


def test_a_course_without_an_import_is_draft_and_never_started(owner, course):
    status, overview = call(owner, "get", f"/api/courses/{course.pk}/import")
    assert status == 200 and overview["status"] == "draft" and overview["repo_url"] is None
    status, stage = call(owner, "get", f"/api/courses/{course.pk}/stage3/status")
    assert (stage["status"], stage["task_id"], stage["progress"]) == ("PENDING", None, 0)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/repo.git",
        "git@github.com:a/b.git",
        "https://user:pw@github.com/a/b.git",
        "",
    ],
)
def test_a_refused_url_is_invalid_at_once_and_starts_nothing(owner, course, sent, url):
    status, body = start(owner, course, url)
    assert status == 400 and body["error"]["code"] == "invalid_request"
    assert body["error"]["message"]
    assert not sent and not StageTask.objects.exists()


def test_a_local_path_is_refused_unless_allowed(owner, course, docs_repo, settings, sent):
    settings.REPOSITORY_ALLOW_LOCAL = False
    status, body = start(owner, course, str(docs_repo))
    assert status == 400 and body["error"]["details"][0]["field"] == "repo_url"
    assert not sent


def test_a_repository_that_cannot_be_fetched_fails_the_stage_with_a_sentence(
    owner, course, tmp_path, run_sent, events
):
    (tmp_path / "empty").mkdir()
    status, _ = start(owner, course, str(tmp_path / "empty"))
    assert status == 202 and run_sent() == ["failed"]
    status, stage = call(owner, "get", f"/api/courses/{course.pk}/stage1/status")
    assert stage["status"] == "FAILURE" and stage["error_message"].endswith(".")
    assert CourseImport.objects.get().status == "stage1_failed"
    assert events[-1][1]["status"] == "FAILURE"


def test_stages_must_go_in_order(owner, course, docs_repo, run_sent):
    """Each start or selection whose input is missing, or while a stage runs, is 409."""
    base = f"/api/courses/{course.pk}"
    assert call(owner, "post", f"{base}/generate-pathways", {})[0] == 409  # no import yet
    start(owner, course, str(docs_repo))
    assert start(owner, course, str(docs_repo))[0] == 409  # stage 1 running
    selection = {"selected_folders": ["docs"], "overview_document": "README.md"}
    status, body = call(owner, "post", f"{base}/stage1-selections", selection)
    assert status == 409 and body["error"]["code"] == "conflict"
    run_sent()
    analyze = {"complexity_level": "beginner"}
    assert call(owner, "post", f"{base}/analyze-documents", analyze)[0] == 409  # no selection
    assert call(owner, "post", f"{base}/generate-pathways", {})[0] == 409
    assert call(owner, "post", f"{base}/stage3-selections", {"selected_pathway_id": 1})[0] == 409
    assert call(owner, "post", f"{base}/generate-course")[0] == 409
    assert call(owner, "get", f"{base}/analyzed-documents")[0] == 409


def test_a_selection_naming_what_the_repository_lacks_is_invalid(
    owner, course, docs_repo, run_sent
):
    start(owner, course, str(docs_repo))
    run_sent()
    body = {"selected_folders": ["nope"], "overview_document": "MISSING.md"}
    status, error = call(owner, "post", f"/api/courses/{course.pk}/stage1-selections", body)
    assert status == 400
    assert {d["field"] for d in error["error"]["details"]} == {
        "selected_folders",
        "overview_document",
    }


def test_outsiders_get_404_and_learners_403(bearer, other_user, make_user, course, docs_repo):
    from learning.models import Enrollment

    learner = make_user("lea")
    Enrollment.objects.create(learner=learner, course=course)
    for client, code in ((bearer(other_user), 404), (bearer(learner), 403)):
        assert start(client, course, str(docs_repo))[0] == code
        assert call(client, "get", f"/api/courses/{course.pk}/stage1/status")[0] == code
        assert call(client, "get", f"/api/courses/{course.pk}/import")[0] == code


def test_restarting_stage1_replaces_its_files(owner, course, docs_repo, run_sent):
    start(owner, course, str(docs_repo))
    run_sent()
    first = RepositoryFile.objects.count()
    (docs_repo / "docs" / "new.md").write_text("# New\n\nMore.\n")
    from tests.imports.conftest import git

    git(docs_repo, "add", "-A")
    git(docs_repo, "commit", "-qm", "new")
    assert start(owner, course, str(docs_repo))[0] == 202
    run_sent()
    assert RepositoryFile.objects.count() == first + 1
    assert RepositoryFile.objects.filter(path="docs/new.md").count() == 1


def test_a_stage_whose_worker_died_is_queued_again_then_failed(
    owner, course, docs_repo, sent, settings, events
):
    """An expired lease: RETRY and sent again while attempts remain, then FAILURE."""
    start(owner, course, str(docs_repo))
    _, _, task_id, _ = sent.pop()
    past = timezone.now() - dt.timedelta(seconds=5)
    StageTask.objects.filter(stage=1).update(
        status="STARTED", attempts=1, lease_token="dead", lease_expires_at=past
    )
    assert imports_sweep() == {"requeued": 1, "failed": 0, "resent": 0}
    row = StageTask.objects.get(stage=1)
    assert row.status == "RETRY" and sent[-1][2] == task_id
    StageTask.objects.filter(stage=1).update(
        status="STARTED",
        attempts=settings.JOB_MAX_ATTEMPTS,
        lease_token="dead2",
        lease_expires_at=past,
    )
    assert imports_sweep() == {"requeued": 0, "failed": 1, "resent": 0}
    row.refresh_from_db()
    assert row.status == "FAILURE" and "stopped" in row.error_message
    assert CourseImport.objects.get().status == "stage1_failed"


def test_a_second_delivery_of_a_finished_stage_does_nothing(
    owner, course, docs_repo, sent, run_sent
):
    start(owner, course, str(docs_repo))
    again = list(sent)
    assert run_sent() == ["succeeded"]
    sent.extend(again)
    assert run_sent() == ["skipped"]


def test_a_stage_queued_long_ago_is_sent_again(owner, course, docs_repo, sent, settings):
    """A broker message lost before any worker took it: the sweep sends the stage again."""
    start(owner, course, str(docs_repo))
    _, _, task_id, _ = sent.pop()
    assert imports_sweep()["resent"] == 0  # queued just now
    long_ago = timezone.now() - dt.timedelta(seconds=settings.JOB_QUEUED_RESEND_SECONDS + 5)
    StageTask.objects.filter(stage=1).update(queued_at=long_ago)
    assert imports_sweep()["resent"] == 1
    assert sent[-1][1:3] == (1, task_id)
