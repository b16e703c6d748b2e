"""What goes wrong with a repository, each with a sentence a person can read."""


class RepositoryError(Exception):
    """A repository could not be used; `message` says why in a sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RepositoryRefused(RepositoryError):
    """The repository's address itself is refused (the API answers 400 at once)."""


class RepositoryFetchFailed(RepositoryError):
    """Fetching or reading the repository failed: stage 1's reason for its FAILURE."""
