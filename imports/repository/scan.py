"""Reading a bare clone's tree from the object store: nothing is ever checked out.

`git ls-tree -r -l -z` lists every entry with its mode and size; symlinks (120000) and
submodules (160000) are skipped by their mode, odd names, secrets by name, known binary formats
and files over the size limit without reading them; the rest are read with `git cat-file
--batch` and skipped if their bytes are binary, an LFS pointer or a secret.
"""

import hashlib
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from . import classify
from .errors import RepositoryFetchFailed
from .gitproc import Deadline, GitFailed, Watchdog, iter_records, start
from .limits import FetchLimits
from .snapshot import RepoFile, SkippedFile

_SYMLINK_MODE = b"120000"
_SUBMODULE_MODE = b"160000"


@dataclass(frozen=True)
class _Entry:
    path: str
    oid: str
    size: int


@dataclass
class ScanResult:
    folders: list[str]
    files: list[RepoFile]
    skipped: list[SkippedFile]


def scan_tree(
    git: list[str], env: dict[str, str], *, limits: FetchLimits, deadline: Deadline
) -> ScanResult:
    """The files of HEAD's tree, read or skipped with a reason, within `limits`."""
    wanted, skipped = _list_entries(git, env, limits=limits, deadline=deadline)
    to_read: list[_Entry] = []
    budget = limits.max_bytes
    for entry in wanted:
        if entry.size > budget:
            skipped.append(SkippedFile(entry.path, classify.OVER_LIMIT))
            continue
        budget -= entry.size
        to_read.append(entry)
    files: list[RepoFile] = []
    for entry, data in zip(to_read, _read_blobs(git, env, to_read, deadline), strict=True):
        reason = classify.content_reason(data)
        if reason is not None:
            skipped.append(SkippedFile(entry.path, reason))
            continue
        files.append(
            RepoFile(
                path=entry.path,
                size=len(data),
                content_hash=hashlib.sha256(data).hexdigest(),
                text=data.decode("utf-8"),
                is_documentation=classify.is_documentation(entry.path),
                is_overview_candidate=classify.is_overview_candidate(entry.path),
            )
        )
    skipped.sort(key=lambda s: s.path)
    return ScanResult(folders=_folders(f.path for f in files), files=files, skipped=skipped)


def _list_entries(
    git: list[str], env: dict[str, str], *, limits: FetchLimits, deadline: Deadline
) -> tuple[list[_Entry], list[SkippedFile]]:
    wanted: list[_Entry] = []
    skipped: list[SkippedFile] = []
    records = iter_records(
        [*git, "ls-tree", "-r", "-l", "-z", "--full-tree", "HEAD"], env, deadline=deadline
    )
    count = 0
    for record in records:
        count += 1
        if count > limits.max_files:
            records.close()  # stops git: the rest is never listed
            raise RepositoryFetchFailed(
                f"The repository has more than {limits.max_files} files, over the limit; "
                "a repository of documentation with fewer files can be imported."
            )
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid, size = meta.split()
        reason = _reason_by_entry(raw_path, mode, kind, size, limits)
        path = classify.printable_name(raw_path)
        if reason is not None:
            skipped.append(SkippedFile(path, reason))
        else:
            wanted.append(_Entry(path, oid.decode("ascii"), int(size)))
    return wanted, skipped


def _reason_by_entry(
    raw_path: bytes, mode: bytes, kind: bytes, size: bytes, limits: FetchLimits
) -> str | None:
    """Why an entry is left out before reading it, or None to read it."""
    if classify.bad_name(raw_path):
        return classify.BAD_NAME
    if mode == _SYMLINK_MODE:
        return classify.SYMLINK
    if mode == _SUBMODULE_MODE or kind != b"blob":
        return classify.SUBMODULE
    path = raw_path.decode("utf-8")
    if classify.secret_by_name(path):
        return classify.SECRET
    if classify.binary_by_name(path):
        return classify.BINARY
    if int(size) > limits.max_file_bytes:
        return classify.TOO_LARGE
    return None


def _read_blobs(
    git: list[str], env: dict[str, str], entries: list[_Entry], deadline: Deadline
) -> Iterable[bytes]:
    """Each entry's bytes, in order, from one `git cat-file --batch`."""
    if not entries:
        return
    process = start(
        [*git, "cat-file", "--batch", "--buffer"],
        env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    writer = threading.Thread(target=_write_ids, args=(process.stdin, entries), daemon=True)
    try:
        with Watchdog(process, deadline):
            writer.start()
            for entry in entries:
                header = process.stdout.readline().split()
                if len(header) != 3 or header[1] != b"blob" or int(header[2]) != entry.size:
                    raise GitFailed(f"cat-file answered {header!r} for {entry.oid}")
                data = process.stdout.read(entry.size)
                process.stdout.read(1)  # the newline after the contents
                if len(data) != entry.size:
                    raise GitFailed(f"cat-file ended inside {entry.oid}")
                yield data
    finally:
        writer.join(timeout=1)  # git is gone by now: a blocked write ends with EPIPE
        process.stdout.close()


def _write_ids(stdin: BinaryIO, entries: list[_Entry]) -> None:
    try:
        stdin.write(b"".join(entry.oid.encode("ascii") + b"\n" for entry in entries))
        stdin.close()
    except (BrokenPipeError, ValueError):  # git was stopped (deadline or error)
        pass


def _folders(paths: Iterable[str]) -> list[str]:
    """Every folder holding a file, with its ancestors ("" the root is implied)."""
    folders: set[str] = set()
    for path in paths:
        folders.update(str(parent) for parent in PurePosixPath(path).parents)
    folders.discard(".")
    return sorted(folders)
