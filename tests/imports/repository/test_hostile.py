"""Hostile repositories made with real git: each ends in a clean refusal or skip, nothing on disk.

Every test here uses the `fetch_tmp` fixture, which fails the test if the fetch left anything
in its temporary folder.
"""

import os
import subprocess
import tracemalloc

import pytest

from imports.repository import FetchLimits, RepositoryFetchFailed, fetch_repository

from .gitrepo import blob, commit_all, commit_root, git, make_repo, tree

pytestmark = pytest.mark.usefixtures("fetch_tmp")


def skipped(snapshot) -> dict[str, str]:
    return {s.path: s.reason for s in snapshot.skipped}


def test_a_symlink_out_of_the_tree_is_skipped_and_never_followed(tmp_path, local_limits):
    """Symlinks (mode 120000) are listed as skipped, whatever they point at."""
    outside = tmp_path / "outside-secret.md"
    outside.write_text("OUTSIDE THE TREE\n")
    repo = make_repo(tmp_path / "src", {"docs/guide.md": "# Guide\n"})
    os.symlink(outside, repo / "docs" / "absolute.md")
    os.symlink("../../outside-secret.md", repo / "docs" / "relative.md")
    os.symlink("/etc/passwd", repo / "passwd")
    commit_all(repo)
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert skipped(snapshot) == {
        "docs/absolute.md": "symlink",
        "docs/relative.md": "symlink",
        "passwd": "symlink",
    }
    assert [f.path for f in snapshot.files] == ["docs/guide.md"]
    assert not any("OUTSIDE" in f.text or "root:" in f.text for f in snapshot.files)


def test_a_200_mb_file_is_skipped_unread(tmp_path, local_limits):
    """Its size comes from the tree: listed as too_large, never read into memory."""
    repo = make_repo(tmp_path / "src", {"README.md": "# Big\n"})
    with open(repo / "huge.md", "wb") as huge:  # sparse: 200 MB of zeros, made at once
        huge.truncate(200 * 1024 * 1024)
    commit_all(repo)
    tracemalloc.start()
    try:
        snapshot = fetch_repository(str(repo), limits=local_limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert skipped(snapshot) == {"huge.md": "too_large"}
    assert [f.path for f in snapshot.files] == ["README.md"]
    assert peak < 20 * 1024 * 1024


def test_a_clone_larger_than_the_byte_limit_is_stopped(tmp_path, local_limits):
    """Incompressible content past REPOSITORY_MAX_BYTES: the fetch fails saying so."""
    repo = make_repo(tmp_path / "src", {"noise.md": os.urandom(3 * 1024 * 1024)})
    limits = FetchLimits(max_bytes=1024 * 1024, max_file_bytes=10 * 1024 * 1024, allow_local=True)
    with pytest.raises(RepositoryFetchFailed) as failed:
        fetch_repository(str(repo), limits=limits)
    assert failed.value.message == "The repository is larger than 1 MB and was not fetched."


def test_text_past_the_byte_limit_is_listed_as_over_limit(tmp_path):
    """Files compress well on disk, but the text kept is bounded by the same number."""
    files = {f"docs/{n:02}.md": f"# Page {n}\n" + "lorem ipsum " * 400 for n in range(10)}
    repo = make_repo(tmp_path / "src", files)
    limits = FetchLimits(max_bytes=20_000, allow_local=True)
    snapshot = fetch_repository(str(repo), limits=limits)
    assert sum(f.size for f in snapshot.files) <= 20_000
    assert [f.path for f in snapshot.files] == [f"docs/{n:02}.md" for n in range(4)]
    assert skipped(snapshot) == {f"docs/{n:02}.md": "over_limit" for n in range(4, 10)}


def test_50000_files_are_refused_cleanly(tmp_path, local_limits):
    """A tree with more entries than REPOSITORY_MAX_FILES refuses the repository as a whole."""
    repo = tmp_path / "src"
    repo.mkdir()
    git(repo, "init", "-q")
    page = blob(repo, b"# Page\n")
    listing = "".join(f"100644 blob {page}\tpage{n:05}.md\n" for n in range(50_000))
    root = git(repo, "mktree", input=listing.encode())
    commit_root(repo, root)
    with pytest.raises(RepositoryFetchFailed) as failed:
        fetch_repository(str(repo), limits=local_limits)
    assert failed.value.message.startswith("The repository has more than 10000 files")


def _marker_hook(tmp_path, marker):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("reference-transaction", "post-checkout", "post-merge", "post-index-change"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
        hook.chmod(0o755)
    return hooks


def test_hooks_never_run(tmp_path, local_limits, monkeypatch):
    """Hooks in the repository, or set up by the worker's own git configuration, never run."""
    marker = tmp_path / "hook-ran"
    hooks = _marker_hook(tmp_path, marker)
    repo = make_repo(tmp_path / "src", {"README.md": "# Hooks\n", ".githooks/post-checkout": ""})
    for name in ("post-checkout", "reference-transaction", "post-update", "pre-upload-pack"):
        (repo / ".git" / "hooks" / name).write_text(f"#!/bin/sh\necho ran >> {marker}\n")
        (repo / ".git" / "hooks" / name).chmod(0o755)
    git(repo, "config", "core.hooksPath", str(hooks))
    # The worker's own configuration (global, system, by environment) points at the hooks too:
    # with it honoured, `git clone` runs reference-transaction.
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".gitconfig").write_text(config.read_text())
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(repo), str(tmp_path / "control.git")], check=True
    )
    assert marker.exists(), "control: a plain clone with this configuration runs the hook"
    marker.unlink()
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert not marker.exists()
    assert {f.path for f in snapshot.files} == {"README.md", ".githooks/post-checkout"}


def test_a_submodule_is_skipped_and_never_fetched(tmp_path, local_limits):
    """A gitlink (mode 160000) is listed as skipped; its repository is not contacted."""
    inner = make_repo(tmp_path / "inner", {"secret-plan.md": "# inner\n"})
    inner_commit = git(inner, "rev-parse", "HEAD")
    repo = make_repo(
        tmp_path / "src",
        {
            "README.md": "# Outer\n",
            ".gitmodules": f'[submodule "vendor/inner"]\n\tpath = vendor/inner\n\turl = {inner}\n',
        },
    )
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{inner_commit},vendor/inner")
    git(repo, "commit", "-q", "-m", "submodule")
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert skipped(snapshot) == {"vendor/inner": "submodule"}
    assert {f.path for f in snapshot.files} == {"README.md", ".gitmodules"}


def test_odd_names_are_skipped_with_their_reason(tmp_path, local_limits):
    """`..` (as a file and as a folder), `.` and control characters: listed as bad_name."""
    repo = tmp_path / "src"
    repo.mkdir()
    git(repo, "init", "-q")
    good = blob(repo, b"# Fine\n")
    passwd = blob(repo, b"root:x:0:0\n")
    escape = tree(repo, [("100644", b"passwd", passwd)])
    sub = tree(repo, [("100644", b"..", passwd), ("100644", b"fine.md", good)])
    root = tree(
        repo,
        [
            ("100644", b"fine.md", good),
            ("100644", b"bell\x07.md", good),
            ("100644", b"new\nline.md", good),
            ("100644", b"not-utf8-\xff.md", good),
            ("40000", b"sub", sub),
            ("40000", b"..", escape),
            ("40000", b".", escape),
        ],
    )
    commit_root(repo, root)
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert [f.path for f in snapshot.files] == ["fine.md", "sub/fine.md"]
    assert skipped(snapshot) == {
        "sub/..": "bad_name",
        "../passwd": "bad_name",
        "./passwd": "bad_name",
        "bell\\x07.md": "bad_name",
        "new\\x0aline.md": "bad_name",
        "not-utf8-\\xff.md": "bad_name",
    }


def test_a_malformed_tree_refuses_the_repository(tmp_path, local_limits):
    """A tree entry with a slash in its name fails git's object checks: a clean refusal."""
    repo = tmp_path / "src"
    repo.mkdir()
    git(repo, "init", "-q")
    good = blob(repo, b"# Fine\n")
    commit_root(repo, tree(repo, [("100644", b"etc/passwd", good)]))
    with pytest.raises(RepositoryFetchFailed) as failed:
        fetch_repository(str(repo), limits=local_limits)
    assert failed.value.message == "The repository contains malformed objects and was refused."


def test_binary_files_are_skipped(tmp_path, local_limits):
    """By name (images, archives) without reading, by content (NUL bytes, not UTF-8)."""
    repo = make_repo(
        tmp_path / "src",
        {
            "docs/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
            "docs/data.md": b"text\x00with a NUL",
            "docs/latin1.txt": "caf\xe9".encode("latin-1"),
            "docs/utf8.md": "# Café ☕\n",
        },
    )
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert skipped(snapshot) == {
        "docs/data.md": "binary",
        "docs/latin1.txt": "binary",
        "docs/logo.png": "binary",
    }
    assert [f.text for f in snapshot.files] == ["# Café ☕\n"]


def test_files_that_look_like_secrets_are_skipped(tmp_path, local_limits):
    """By name (.env, keys) and by content (key and token shapes); ordinary docs are kept."""
    repo = make_repo(
        tmp_path / "src",
        {
            ".env": "GEMINI_API_KEY=abc\n",
            ".env.production": "DATABASE_URL=postgres://u:p@h/db\n",
            "deploy/server.pem": "certificate\n",
            "keys/id_rsa": "key\n",
            "keys/id_ed25519.pub": "ssh-ed25519 AAAA\n",
            "docs/aws.md": "# AWS\n\nexport AWS_ACCESS_KEY_ID=AKIA" + "Q" * 16 + "\n",
            "docs/key.md": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n",
            "docs/gh.md": "token: ghp_" + "a1" * 18 + "\n",
            "docs/passwords.md": "# Passwords\n\nChoose a strong password.\n",
        },
    )
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert skipped(snapshot) == {
        ".env": "secret",
        ".env.production": "secret",
        "deploy/server.pem": "secret",
        "keys/id_rsa": "secret",
        "keys/id_ed25519.pub": "secret",
        "docs/aws.md": "secret",
        "docs/key.md": "secret",
        "docs/gh.md": "secret",
    }
    assert [f.path for f in snapshot.files] == ["docs/passwords.md"]


def test_an_lfs_pointer_is_listed_and_never_downloaded(tmp_path, local_limits):
    """A Git LFS pointer is skipped as lfs_pointer; no LFS server is asked for its content."""
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 12345\n"
    )
    repo = make_repo(
        tmp_path / "src",
        {
            ".gitattributes": "*.mdx filter=lfs diff=lfs merge=lfs -text\n",
            "docs/video.mdx": pointer,
            "docs/guide.md": "# Guide\n",
        },
    )
    git(repo, "config", "lfs.url", "https://lfs.invalid/repo")
    snapshot = fetch_repository(str(repo), limits=local_limits)
    assert skipped(snapshot) == {"docs/video.mdx": "lfs_pointer"}
    assert {f.path for f in snapshot.files} == {".gitattributes", "docs/guide.md"}


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if text.encode() in cmdline.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def test_a_fetch_that_hangs_is_stopped_at_the_timeout(tmp_path):
    """A source that never answers: git and its helpers are killed, the fetch fails saying so."""
    repo = make_repo(tmp_path / "hanging-src", {"README.md": "# Hang\n"})
    os.mkfifo(repo / ".git" / "packed-refs")  # upload-pack blocks opening it, for ever
    limits = FetchLimits(timeout_seconds=1.0, allow_local=True)
    with pytest.raises(RepositoryFetchFailed) as failed:
        fetch_repository(str(repo), limits=limits)
    assert failed.value.message == (
        "Fetching the repository took longer than 1 seconds and was stopped."
    )
    assert _processes_mentioning(str(repo)) == []


def test_a_scan_that_stalls_is_stopped_at_the_timeout(tmp_path, fetch_tmp, monkeypatch):
    """The deadline covers reading too: a cat-file left waiting is killed, the fetch fails.

    The object ids reach git only after the deadline (the writer is held back), so the read
    blocks as it would on a git that stalls.
    """
    import threading

    from imports.repository import scan

    release = threading.Event()
    write_ids = scan._write_ids

    def late_writer(stdin, entries):
        release.wait(30)
        write_ids(stdin, entries)

    monkeypatch.setattr(scan, "_write_ids", late_writer)
    repo = make_repo(tmp_path / "src", {"README.md": "# Stall\n"})
    try:
        with pytest.raises(RepositoryFetchFailed) as failed:
            fetch_repository(str(repo), limits=FetchLimits(timeout_seconds=5, allow_local=True))
    finally:
        release.set()
    assert failed.value.message == (
        "Fetching the repository took longer than 5 seconds and was stopped."
    )
    assert _processes_mentioning(str(fetch_tmp)) == []
