"""What a job request can be refused with; the HTTP API maps each onto its error shape."""


class JobRefused(Exception):
    """A request about a lesson, module or job that cannot be done; `message` is for a person."""

    code = "invalid_request"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotVisible(JobRefused):
    """Missing, or not the caller's to see (existence is never leaked)."""

    code = "not_found"


class NotAllowed(JobRefused):
    """Visible to the caller, but not theirs to do."""

    code = "forbidden"


class StateConflict(JobRefused):
    """The state does not allow it now (an edited lesson without `force`, a finished job)."""

    code = "conflict"
