"""How much of an untrusted repository Lectern is willing to fetch and read."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one fetch: bytes on disk (and text kept), files, one file's size, time."""

    max_bytes: int = 100 * 1024 * 1024
    max_files: int = 10_000
    max_file_bytes: int = 1024 * 1024
    timeout_seconds: float = 120.0
    allow_local: bool = False

    @classmethod
    def from_settings(cls) -> "FetchLimits":
        """The limits the REPOSITORY_* settings give."""
        from django.conf import settings

        return cls(
            max_bytes=settings.REPOSITORY_MAX_BYTES,
            max_files=settings.REPOSITORY_MAX_FILES,
            max_file_bytes=settings.REPOSITORY_MAX_FILE_BYTES,
            timeout_seconds=settings.REPOSITORY_FETCH_TIMEOUT_SECONDS,
            allow_local=settings.REPOSITORY_ALLOW_LOCAL,
        )
