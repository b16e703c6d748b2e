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


def blob(path: Path, content: bytes) -> str:
    """Write `content` as a blob; its id."""
    return git(path, "hash-object", "-w", "--stdin", input=content)


def tree(path: Path, entries: list[tuple[str, bytes, str]]) -> str:
    """Write a tree of exactly `entries` (mode, raw name, object id), names unchecked; its id.

    Written as raw bytes (`hash-object --literally`), so a test can use names git would never
    create: `..`, control characters.
    """
    raw = b""
    # git's order: a folder sorts as if its name ended with "/".
    for mode, name, oid in sorted(entries, key=lambda e: e[1] + (b"/" if e[0] == "40000" else b"")):
        raw += mode.encode() + b" " + name + b"\0" + bytes.fromhex(oid)
    return git(path, "hash-object", "-w", "-t", "tree", "--literally", "--stdin", input=raw)


def commit_root(path: Path, root: str) -> str:
    """Make HEAD a commit of the tree `root`; the commit's id."""
    commit = git(path, "commit-tree", root, "-m", "crafted")
    git(path, "update-ref", "HEAD", commit)
    return commit
