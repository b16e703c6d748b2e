"""Fetching and reading an untrusted repository for an import (docs/imports.md).

`check_repo_url` refuses an address on its face; `fetch_repository` clones it bare and shallow
in a child process, within FetchLimits, and reads its text files from the object store;
`cut_on_headings` cuts a long document to fit a model's context.
"""

from .errors import RepositoryError, RepositoryFetchFailed, RepositoryRefused
from .fetch import fetch_repository
from .limits import FetchLimits
from .sections import Section, cut_on_headings
from .snapshot import RepoFile, RepositorySnapshot, SkippedFile
from .urls import check_repo_url

__all__ = [
    "FetchLimits",
    "RepoFile",
    "RepositoryError",
    "RepositoryFetchFailed",
    "RepositoryRefused",
    "RepositorySnapshot",
    "Section",
    "SkippedFile",
    "check_repo_url",
    "cut_on_headings",
    "fetch_repository",
]
