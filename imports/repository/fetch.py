"""Fetching an untrusted repository: a bare, shallow clone in a temporary directory.

The clone runs git in a child process (see gitproc) with a deadline and a watch on its size,
HEAD's tree is read from the object store (see scan), and the directory is removed whatever
happens.
"""

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import RepositoryFetchFailed
from .gitproc import (
    Deadline,
    GitFailed,
    git_environment,
    git_options,
    run_output,
    run_watched,
    timed_out,
)
from .limits import FetchLimits
from .scan import scan_tree
from .snapshot import RepositorySnapshot
from .urls import (
    RemoteTarget,
    Resolver,
    check_repo_url,
    curl_resolve_entry,
    is_local_path,
    resolve_public_addresses,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]

CLONING = (20, "Cloning repository...")
SCANNING = (60, "Scanning files...")


def fetch_repository(
    url: str,
    *,
    limits: FetchLimits | None = None,
    progress: Progress | None = None,
    resolver: Resolver | None = None,
) -> RepositorySnapshot:
    """The repository at `url` read at its default branch's head, within `limits`.

    Synchronous (a Celery worker runs it). Raises RepositoryRefused for an address that is not
    accepted and RepositoryFetchFailed when fetching or reading fails; leaves nothing on disk.
    """
    limits = limits or FetchLimits.from_settings()
    url = check_repo_url(url, allow_local=limits.allow_local)
    deadline = Deadline(limits.timeout_seconds)
    report = progress or (lambda percent, step: None)
    extra: list[str] = []
    source = url
    if is_local_path(url):
        source = Path(url).as_uri()  # file:// so that --depth applies (a plain path ignores it)
    else:
        pin = curl_resolve_entry(_resolve_within(url, resolver, deadline))
        extra = ["-c", f"http.curloptResolve={pin}"] if pin else []
    workdir = Path(tempfile.mkdtemp(prefix="lectern-repo-"))
    try:
        env = git_environment(workdir / "home", allow_file=limits.allow_local)
        git_dir = workdir / "repo.git"
        template = workdir / "template"
        template.mkdir()
        base = ["git", *git_options(allow_file=limits.allow_local), *extra]
        report(*CLONING)
        _clone(base, env, source, git_dir, template, limits=limits, deadline=deadline)
        report(*SCANNING)
        git = [*base, f"--git-dir={git_dir}"]
        commit = _head_commit(git, env, deadline)
        result = scan_tree(git, env, limits=limits, deadline=deadline)
        logger.info(
            "repository read: %s at %s, %d files, %d skipped",
            url,
            commit,
            len(result.files),
            len(result.skipped),
        )
        return RepositorySnapshot(
            url=url,
            commit=commit,
            folders=result.folders,
            files=result.files,
            skipped=result.skipped,
        )
    except GitFailed as error:
        logger.warning("repository %s: git failed: %s", url, error.stderr.strip()[-500:])
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if workdir.exists():  # pragma: no cover - only if the disk refuses to delete
            logger.error("repository fetch could not remove its temporary folder %s", workdir)


def _resolve_within(url: str, resolver: Resolver | None, deadline: Deadline) -> RemoteTarget:
    """resolve_public_addresses, given up at the deadline (a DNS lookup cannot be cancelled,
    so it is left to finish in a daemon thread)."""
    outcome: list[RemoteTarget | BaseException] = []

    def resolve() -> None:
        try:
            outcome.append(resolve_public_addresses(url, resolver))
        except BaseException as error:  # handed to the caller below
            outcome.append(error)

    thread = threading.Thread(target=resolve, name="repository-resolve", daemon=True)
    thread.start()
    thread.join(max(deadline.remaining(), 0.0))
    if not outcome:
        raise timed_out(deadline.seconds)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _clone(
    base: list[str],
    env: dict[str, str],
    source: str,
    git_dir: Path,
    template: Path,
    *,
    limits: FetchLimits,
    deadline: Deadline,
) -> None:
    args = [
        *base,
        "clone",
        "--bare",
        "--depth=1",
        "--single-branch",
        "--no-tags",
        f"--template={template}",
        "--quiet",
        "--",
        source,
        str(git_dir),
    ]
    status, stderr = run_watched(
        args, env, deadline=deadline, watch=git_dir.parent, max_bytes=limits.max_bytes
    )
    if status != 0:
        logger.warning("repository clone failed: %s", stderr.strip()[-500:])
        raise RepositoryFetchFailed(clone_failure_sentence(stderr))


def _head_commit(git: list[str], env: dict[str, str], deadline: Deadline) -> str:
    try:
        out = run_output(
            [*git, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], env, deadline=deadline
        )
    except GitFailed:
        raise RepositoryFetchFailed("The repository has no commits to read.") from None
    return out.decode("ascii").strip()


_FAILURES = (
    (
        ("terminal prompts disabled", "authentication failed", "could not read username"),
        "The repository is private or does not exist: only public repositories can be imported.",
    ),
    (
        ("repository not found", "does not appear to be a git repository", "returned error: 404"),
        "No git repository was found at that address.",
    ),
    (
        ("returned error: 30",),
        "The server answered with a redirect, which is not followed: give the repository's "
        "final address.",
    ),
    (("could not resolve host",), "The repository's host could not be found."),
    (
        (
            "failed to connect",
            "connection refused",
            "connection timed out",
            "network is unreachable",
            "couldn't connect",
        ),
        "The repository's server could not be reached.",
    ),
    (("ssl", "certificate"), "The repository's server did not present a valid HTTPS certificate."),
    (
        ("fsck", "malformed", "bad object"),
        "The repository contains malformed objects and was refused.",
    ),
    (
        ("remote branch", "not found in upstream", "empty repository"),
        "The repository has no commits to read.",
    ),
)


def clone_failure_sentence(stderr: str) -> str:
    """A sentence for a failed clone, from what git said (git's own words are only logged)."""
    text = stderr.lower()
    for needles, sentence in _FAILURES:
        if any(needle in text for needle in needles):
            return sentence
    return "The repository could not be fetched."
