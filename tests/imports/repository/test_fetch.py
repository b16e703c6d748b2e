"""fetch_repository on well-formed repositories made with real git."""

import hashlib

import pytest

from imports.repository import FetchLimits, RepositoryFetchFailed, fetch_repository

from .gitrepo import commit_all, git, make_repo

pytestmark = pytest.mark.usefixtures("fetch_tmp")

DOCS = {
    "README.md": "# Widget\n\nWhat it is.\n",
    "docs/guide.md": "# Guide\n\nStep one.\n",
    "docs/api/reference.rst": "Reference\n=========\n",
    "docs/notes.txt": "plain notes\n",
    "docs/getting-started.md": "# Start\n",
    "src/widget.py": "print('hi')\n",
    "src/README.md": "# Source\n",
    "requirements.txt": "django\n",
    "node_modules/lib/README.md": "# vendored\n",
}


def test_fetch_reads_the_files_at_the_head_commit(tmp_path, local_limits):
    """Every text file is read with its size and hash, at the commit HEAD names."""
    repo = make_repo(tmp_path / "src", DOCS)
    head = git(repo, "rev-parse", "HEAD")
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert snapshot.commit == head
    assert snapshot.url == str(repo)
    by_path = {f.path: f for f in snapshot.files}
    assert set(by_path) == set(DOCS)
    guide = by_path["docs/guide.md"]
    assert guide.text == DOCS["docs/guide.md"]
    assert guide.size == len(DOCS["docs/guide.md"].encode())
    assert guide.content_hash == hashlib.sha256(DOCS["docs/guide.md"].encode()).hexdigest()
    assert snapshot.skipped == []


def test_fetch_marks_documentation_and_overview_candidates(tmp_path, local_limits):
    """Markup and docs-folder text is documentation; README/getting-started are overviews."""
    snapshot = fetch_repository(str(make_repo(tmp_path / "src", DOCS)), limits=local_limits)
    docs = {f.path for f in snapshot.files if f.is_documentation}
    assert docs == {
        "README.md",
        "docs/guide.md",
        "docs/api/reference.rst",
        "docs/notes.txt",
        "docs/getting-started.md",
        "src/README.md",
    }
    assert set(snapshot.overview_candidates) == {
        "README.md",
        "docs/getting-started.md",
        "src/README.md",
    }


def test_fetch_lists_every_folder_holding_a_file(tmp_path, local_limits):
    """Folders include their ancestors; the root is implied."""
    snapshot = fetch_repository(str(make_repo(tmp_path / "src", DOCS)), limits=local_limits)
    assert snapshot.folders == ["docs", "docs/api", "node_modules", "node_modules/lib", "src"]


def test_fetch_reports_progress_at_the_plan_steps(tmp_path, local_limits):
    """progress(20, "Cloning repository...") then progress(60, "Scanning files...")."""
    seen: list[tuple[int, str]] = []
    fetch_repository(
        str(make_repo(tmp_path / "src", DOCS)),
        limits=local_limits,
        progress=lambda percent, step: seen.append((percent, step)),
    )
    assert seen == [(20, "Cloning repository..."), (60, "Scanning files...")]


def test_fetch_reads_only_the_latest_commit_of_the_default_branch(tmp_path, local_limits):
    """Shallow: the clone has one commit; a file deleted earlier and other branches are absent."""
    repo = make_repo(tmp_path / "src", {"old.md": "old\n", "keep.md": "keep\n"})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "other.md").write_text("other branch\n")
    commit_all(repo)
    git(repo, "checkout", "-q", "main")
    (repo / "old.md").unlink()
    head = commit_all(repo)
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert snapshot.commit == head
    assert [f.path for f in snapshot.files] == ["keep.md"]


def test_fetch_of_a_folder_that_is_not_a_repository_fails_with_a_sentence(tmp_path, local_limits):
    """A local folder without git: stage 1 fails saying so."""
    (tmp_path / "plain").mkdir()
    with pytest.raises(RepositoryFetchFailed) as failure:
        fetch_repository(str(tmp_path / "plain"), limits=local_limits)
    assert failure.value.message == "No git repository was found at that address."


def test_fetch_of_an_empty_repository_fails_with_a_sentence(tmp_path, local_limits):
    """A repository without commits has nothing to read."""
    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q")
    with pytest.raises(RepositoryFetchFailed) as failure:
        fetch_repository(str(tmp_path / "empty"), limits=local_limits)
    assert failure.value.message == "The repository has no commits to read."


def test_limits_from_settings_read_the_repository_settings(settings):
    """FetchLimits.from_settings follows the REPOSITORY_* settings."""
    settings.REPOSITORY_MAX_BYTES = 1000
    settings.REPOSITORY_MAX_FILES = 7
    settings.REPOSITORY_MAX_FILE_BYTES = 10
    settings.REPOSITORY_FETCH_TIMEOUT_SECONDS = 3.5
    settings.REPOSITORY_ALLOW_LOCAL = True
    assert FetchLimits.from_settings() == FetchLimits(1000, 7, 10, 3.5, True)
