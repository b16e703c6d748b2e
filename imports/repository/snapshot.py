"""What a fetch gives back: the files read, the files left out with their reasons."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RepoFile:
    """A text file read from the repository at the snapshot's commit."""

    path: str
    size: int
    content_hash: str  # sha256 hex of the bytes
    text: str
    is_documentation: bool
    is_overview_candidate: bool


@dataclass(frozen=True)
class SkippedFile:
    """A file left out, and why: "binary", "too_large", "symlink", "submodule", "secret",
    "bad_name", "lfs_pointer" or "over_limit"."""

    path: str
    reason: str


@dataclass(frozen=True)
class RepositorySnapshot:
    """One repository read at one commit."""

    url: str
    commit: str
    folders: list[str]
    files: list[RepoFile]
    skipped: list[SkippedFile]

    @property
    def overview_candidates(self) -> list[str]:
        return [f.path for f in self.files if f.is_overview_candidate]
