"""The git CLI in a child process: no user or system configuration, no prompts, no hooks.

Every git Lectern runs on an untrusted repository goes through `git_command` (its environment
and `-c` options) and runs in its own process group, so a timeout or an error kills git and
every helper it started (remote-https, index-pack, upload-pack).
"""

import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Generator
from pathlib import Path

from .errors import RepositoryFetchFailed

# fsck runs on everything received (transfer.fsckObjects). A tree entry named `.` or `..` is
# harmless here (nothing is ever checked out) and is listed as skipped by the scan instead of
# failing the whole repository; every other fsck finding refuses it.
_FSCK_IGNORED = ("hasDot", "hasDotdot")

_POLL_SECONDS = 0.1

logger = logging.getLogger(__name__)


def git_environment(home: Path, *, allow_file: bool) -> dict[str, str]:
    """A minimal environment: a throwaway HOME, no system/global config, no prompts, no proxies."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_LFS_SKIP_SMUDGE": "1",
        "GIT_ALLOW_PROTOCOL": "https:file" if allow_file else "https",
        "GIT_PROTOCOL_FROM_USER": "0",
    }


def git_options(*, allow_file: bool) -> list[str]:
    """`-c` options given to every git command run on an untrusted repository."""
    options = {
        "core.hooksPath": "/dev/null",
        "core.fsmonitor": "false",
        "core.askPass": "",
        "credential.helper": "",
        "protocol.allow": "never",
        "protocol.https.allow": "always",
        "protocol.file.allow": "always" if allow_file else "never",
        "http.followRedirects": "false",
        "transfer.fsckObjects": "true",
        "submodule.recurse": "false",
        "filter.lfs.smudge": "",
        "filter.lfs.process": "",
        "filter.lfs.required": "false",
        **{f"fetch.fsck.{name}": "ignore" for name in _FSCK_IGNORED},
    }
    return [arg for key, value in options.items() for arg in ("-c", f"{key}={value}")]


class Deadline:
    """The time left of one fetch."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        """RepositoryFetchFailed once the time is up."""
        if self.remaining() <= 0:
            raise timed_out(self.seconds)


def timed_out(seconds: float) -> RepositoryFetchFailed:
    return RepositoryFetchFailed(
        f"Fetching the repository took longer than {seconds:g} seconds and was stopped."
    )


def start(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    """git started in a process group of its own (so `stop` reaches its helpers too)."""
    try:
        return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
            args, env=env, start_new_session=True, close_fds=True, **kwargs
        )
    except OSError as error:
        logger.error("git could not be started: %s", error)
        raise RepositoryFetchFailed(
            "The server could not run git to fetch the repository; the operators have been told."
        ) from None


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the process group of `process` and reap it (nothing is left running)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a SIGKILLed process is reaped quickly
        pass


def tree_size(path: Path) -> int:
    """Bytes of the files under `path` (symlinks not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:  # git renames temporary packs as it goes
                continue
    return total


def run_watched(
    args: list[str], env: dict[str, str], *, deadline: Deadline, watch: Path, max_bytes: int
) -> tuple[int, str]:
    """Run git until it exits, the deadline passes or `watch` grows past `max_bytes`.

    Returns git's exit status and the end of its standard error.
    """
    with open(os.devnull, "rb") as devnull:
        process = start(args, env, stdin=devnull, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    os.set_blocking(process.stderr.fileno(), False)
    errors = bytearray()
    try:
        while process.poll() is None:
            _drain(process, errors)
            if deadline.remaining() <= 0:
                raise timed_out(deadline.seconds)
            if tree_size(watch) > max_bytes:
                raise RepositoryFetchFailed(
                    f"The repository is larger than {_megabytes(max_bytes)} and was not fetched."
                )
            time.sleep(_POLL_SECONDS)
        _drain(process, errors)
        if tree_size(watch) > max_bytes:
            raise RepositoryFetchFailed(
                f"The repository is larger than {_megabytes(max_bytes)} and was not fetched."
            )
        return process.returncode, errors.decode("utf-8", "replace")
    finally:
        stop(process)
        process.stderr.close()


def _drain(process: subprocess.Popen[bytes], errors: bytearray) -> None:
    assert process.stderr is not None
    while True:
        try:
            chunk = process.stderr.read(65536)
        except BlockingIOError:
            return
        if not chunk:
            return
        errors.extend(chunk)
        del errors[:-8192]  # only the end matters (the reason git gave up)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


class Watchdog:
    """Kills a child's process group when the fetch's deadline passes (a blocked read returns)."""

    def __init__(self, process: subprocess.Popen[bytes], deadline: Deadline) -> None:
        self.process = process
        self.deadline = deadline
        self.fired = False
        self._timer = threading.Timer(max(deadline.remaining(), 0.0), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        stop(self.process)

    def __enter__(self) -> "Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        stop(self.process)
        if self.fired:
            raise timed_out(self.deadline.seconds)


def run_output(args: list[str], env: dict[str, str], *, deadline: Deadline) -> bytes:
    """git's standard output; RepositoryFetchFailed if it fails or the deadline passes."""
    process = start(
        args, env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with Watchdog(process, deadline):
        out, err = process.communicate()
    if process.returncode != 0:
        raise GitFailed(err.decode("utf-8", "replace"))
    return out


def iter_records(args: list[str], env: dict[str, str], *, deadline: Deadline) -> Generator[bytes]:
    """git's NUL-terminated output records, read as they come (the caller may stop early)."""
    # git's complaints go to an unlinked file: a pipe nobody reads could fill and block git.
    with tempfile.TemporaryFile() as errors:
        process = start(args, env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        try:
            with Watchdog(process, deadline):
                pending = b""
                while chunk := process.stdout.read(65536):
                    records = (pending + chunk).split(b"\0")
                    pending = records.pop()
                    yield from records
                if process.wait() != 0:
                    errors.seek(0)
                    raise GitFailed(errors.read(8192).decode("utf-8", "replace"))
        finally:
            process.stdout.close()


class GitFailed(RepositoryFetchFailed):
    """A git command exited with an error; `stderr` is what it said (for the logs)."""

    def __init__(self, stderr: str) -> None:
        super().__init__("The repository could not be read.")
        self.stderr = stderr
