"""Repositories made with real git in a temporary folder, for tests of the fetch."""

import os
import subprocess
from pathlib import Path

_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "LC_ALL": "C",
}


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    """Run git in `repo`; its standard output."""
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env=_ENV,
        input=input,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def make_repo(path: Path, files: dict[str, str | bytes]) -> Path:
    """A repository at `path` with one commit holding `files` (path -> content)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content)
        else:
            target.write_bytes(content)
    commit_all(path)
    return path


def commit_all(path: Path, message: str = "content") -> str:
    """Commit everything in the work tree; the commit's id."""
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", message)
    return git(path, "rev-parse", "HEAD")


def commit_tree(path: Path, entries: list[tuple[str, str, bytes]]) -> str:
    """Make HEAD a commit whose root tree is exactly `entries` (mode, name, blob content).

    Written object by object (`hash-object`, `mktree --missing` bypassed with a raw tree) so a
    test can use names git would never check out: `..`, control characters.
    """
    raw = b""
    for mode, name, content in sorted(entries, key=lambda e: e[1].encode()):
        oid = git(path, "hash-object", "-w", "--stdin", input=content)
        raw += mode.encode() + b" " + name.encode("utf-8", "surrogateescape") + b"\0"
        raw += bytes.fromhex(oid)
    tree = git(path, "hash-object", "-w", "-t", "tree", "--literally", "--stdin", input=raw)
    commit = git(path, "commit-tree", tree, "-m", "crafted")
    git(path, "update-ref", "HEAD", commit)
    return commit
