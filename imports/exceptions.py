"""What an import request can be refused with, and how a stage's run can end early."""


class ImportRefused(Exception):
    """A request about an import that cannot be done; `message` is for a person."""

    code = "invalid_request"

    def __init__(self, message: str, *, details: list[dict[str, str]] | None = None) -> None:
        self.message = message
        self.details = details or []
        super().__init__(message)


class NotVisible(ImportRefused):
    """Missing, or not the caller's to see (existence is never leaked)."""

    code = "not_found"


class NotAllowed(ImportRefused):
    """Visible to the caller, but not theirs to change."""

    code = "forbidden"


class StageConflict(ImportRefused):
    """The import's state does not allow it now: input missing, or a stage running."""

    code = "conflict"


class OverCap(ImportRefused):
    """More than an import may send to the model; deselect documents."""

    code = "too_large"


class StageFailed(Exception):
    """The stage cannot succeed; `message` is its `error_message`, a sentence."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class StageRetryable(StageFailed):
    """A failure worth another attempt later (the model was unavailable)."""


class StageLost(Exception):
    """The stage is no longer this run's (restarted or swept): stop without writing."""
