"""`python -m config.launch`: every process of the Procfile (web, worker) from one command.

`make run` uses it; `--setup` first migrates and makes the playground login. It checks the port
before starting anything (a taken port is a one-line error and exit 1, not a hang), starts each
Procfile line as a child with this interpreter's `bin/` first on PATH, and forwards SIGINT and
SIGTERM to them: one Ctrl-C stops both. When either child exits, the other is stopped and the
launcher exits with the first one's status. Children get SIGTERM if the launcher itself is
killed, so nothing is left running.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_SECONDS = 20.0  # a worker's warm shutdown waits for running tasks this long


def procfile_read(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's processes, by name, in order."""
    processes: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def port_taken(host: str, port: int) -> bool:
    """Whether something listens on host:port (checked as a server binds: SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError:
            return True
    return False


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the launcher dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):  # not Linux: Ctrl-C still reaches the whole group
        pass


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every child still running; SIGKILL those still there after the timeout."""
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _exit_status(code: int) -> int:
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says


def run(processes: dict[str, str]) -> int:
    """Start the processes; return when one exits (its status) or on a signal (0 if clean)."""
    stopping: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    env = _child_env()
    children = {
        name: subprocess.Popen(
            ["/bin/sh", "-c", f"exec {command}" if "&&" not in command else command],
            cwd=ROOT,
            env=env,
            preexec_fn=_die_with_parent,
        )
        for name, command in processes.items()
    }
    print("lectern: " + ", ".join(f"{n} (pid {c.pid})" for n, c in children.items()), flush=True)
    while not stopping:
        ended = [(name, child) for name, child in children.items() if child.poll() is not None]
        if ended:
            name, child = ended[0]
            status = _exit_status(child.returncode)
            print(f"lectern: {name} exited with status {status}; stopping the rest", flush=True)
            _stop(children)
            return status or 1
        time.sleep(0.2)
    _stop(children)
    statuses = {name: child.returncode for name, child in children.items()}
    # Ended by the signal we sent them is a clean stop; anything else is reported.
    failed = {n: c for n, c in statuses.items() if c not in (0, -signal.SIGTERM, -signal.SIGINT)}
    if failed:
        print(f"lectern: stopped; exit statuses {failed}", flush=True)
    return max((_exit_status(code) for code in failed.values()), default=0)


def setup() -> None:
    """What `make run` does before serving: migrate, and a playground login in DEBUG."""
    for args in (["migrate", "--no-input"], ["ensure_playground_user"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_child_env(), check=True)


def main(argv: list[str]) -> int:
    host = os.environ.get("HOST") or "127.0.0.1"
    os.environ["HOST"] = host
    port = int(os.environ.get("PORT") or "8000")
    os.environ["PORT"] = str(port)
    if port_taken(host, port):
        print(
            f"lectern: port {port} on {host} is already in use; stop what uses it "
            f"or choose another: make run PORT={port + 1}",
            file=sys.stderr,
        )
        return 1
    if "--setup" in argv:
        try:
            setup()
        except subprocess.CalledProcessError as exc:
            return exc.returncode or 1
    return run(procfile_read())


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C during --setup, before any server started
        sys.exit(130)
