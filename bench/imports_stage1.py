"""Stage 1 of a repository import: time and peak memory of `fetch_repository`, against plain git.

A repository of `--files` text files (Markdown pages of about 1.5 KB in 100 folders, a fifth of
them Python) is made once with `git fast-import`. Then, `--rounds` times, in alternation, each
variant runs in a fresh Python process of its own (so that its peak RSS is its own):

- `baseline`: plain `git clone --bare --depth 1 file://...` then `git ls-tree -r -l -z HEAD`
  (what listing a repository costs at the least);
- `baseline+read`: the same, then `git cat-file --batch --batch-all-objects` (every object's
  bytes through a pipe, the least reading them costs);
- `fetch_repository`: Lectern's stage 1 fetch (clone with its options, size watch, scan,
  classification, sha256 of every file), local repositories allowed, limits raised.

Printed: the median wall time of the call, its ratio to `baseline` measured in the same run, the
Python process's peak RSS (VmHWM) and how much it grew during the call, and the peak of the
summed RSS of the whole process tree (Python, git and git's helpers), sampled every 10 ms.
Times are wall-clock on whatever else the machine runs: compare the ratios, not the seconds.

    .venv/bin/python -m bench.imports_stage1 [--files 10000] [--rounds 3] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PYTHON, ROOT, Workdir

VARIANTS = ("baseline", "baseline+read", "fetch_repository")
_GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "LC_ALL": "C",
}
_WORDS = (
    "install configure deploy module request response widget course lesson pathway document "
    "server client token cache queue worker stage import folder commit branch"
).split()


def make_repository(path: Path, files: int) -> None:
    """A repository with one commit of `files` text files, written by `git fast-import`."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, env=_GIT_ENV)
    stream = bytearray()
    for n in range(files):
        words = " ".join(_WORDS[(n * 7 + i) % len(_WORDS)] for i in range(220))
        if n % 5 == 4:
            body = f"# module {n}\ndef page_{n}():\n    return {words.split()!r}\n"
        else:
            body = f"# Page {n}\n\n{words}\n\n## Details\n\n{words[::-1]}\n"
        data = body.encode()
        stream += b"blob\nmark :%d\ndata %d\n%s\n" % (n + 1, len(data), data)
    stream += b"commit refs/heads/main\ncommitter Bench <b@example.com> 1700000000 +0000\n"
    stream += b"data 5\nbench\n"
    for n in range(files):
        folder = f"docs/section-{n % 100:02}" if n % 5 != 4 else f"src/pkg{n % 100:02}"
        suffix = "py" if n % 5 == 4 else "md"
        stream += b"M 100644 :%d %s/page-%05d.%s\n" % (n + 1, folder.encode(), n, suffix.encode())
    stream += b"\n"
    subprocess.run(
        ["git", "fast-import", "--quiet"], input=bytes(stream), cwd=path, check=True, env=_GIT_ENV
    )
    subprocess.run(
        ["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=path, check=True, env=_GIT_ENV
    )


def _status_kb(field: str, pid: int | str = "self") -> int:
    """A /proc/PID/status field in kB (VmRSS, VmHWM); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb(pid: int) -> int:
    """VmRSS of `pid` and all its descendants (git and its helpers), summed."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _status_kb("VmRSS", current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return total


def child(variant: str, repo: str, scratch: str) -> dict[str, float]:
    """Run one variant once in this process; its numbers."""
    before = _status_kb("VmRSS")
    if variant == "fetch_repository":
        from imports.repository import FetchLimits, fetch_repository

        limits = FetchLimits(
            max_bytes=1 << 34, max_files=1 << 20, timeout_seconds=3600, allow_local=True
        )
        started = time.perf_counter()
        snapshot = fetch_repository(repo, limits=limits)
        elapsed = time.perf_counter() - started
        count = len(snapshot.files) + len(snapshot.skipped)
    else:
        target = Path(scratch) / "clone.git"
        started = time.perf_counter()
        subprocess.run(
            ["git", "clone", "-q", "--bare", "--depth", "1", Path(repo).as_uri(), str(target)],
            check=True,
            env=_GIT_ENV,
        )
        listing = subprocess.run(
            ["git", f"--git-dir={target}", "ls-tree", "-r", "-l", "-z", "HEAD"],
            check=True,
            capture_output=True,
            env=_GIT_ENV,
        ).stdout
        if variant == "baseline+read":
            subprocess.run(
                ["git", f"--git-dir={target}", "cat-file", "--batch", "--batch-all-objects"],
                check=True,
                stdout=subprocess.DEVNULL,
                env=_GIT_ENV,
            )
        elapsed = time.perf_counter() - started
        count = listing.count(b"\0")
        shutil.rmtree(target)
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so it would report the parent's.
    return {
        "seconds": elapsed,
        "files": count,
        "python_mb": _status_kb("VmHWM") / 1024,
        "grew_mb": (_status_kb("VmHWM") - before) / 1024,
    }


def run(variant: str, repo: Path, scratch: Path) -> dict[str, float]:
    """One variant in a fresh process, its process tree's RSS sampled every 10 ms."""
    process = subprocess.Popen(
        [PYTHON, "-m", "bench.imports_stage1", "--child", variant, str(repo), str(scratch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kb(process.pid))
        time.sleep(0.01)
    out, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{variant} failed ({process.returncode})")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["tree_mb"] = peak / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "REPO", "SCRATCH"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    with Workdir(args.keep, on_disk=True) as workdir:
        repo = workdir / "source.git"
        started = time.perf_counter()
        make_repository(repo, args.files)
        print(f"repository: {args.files} files, made in {time.perf_counter() - started:.1f} s")
        results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for variant in VARIANTS:
                scratch = Path(tempfile.mkdtemp(dir=workdir))
                results[variant].append(run(variant, repo, scratch))
        base = statistics.median(r["seconds"] for r in results["baseline"])
        print(
            f"\n| variant | files listed | median s | x baseline | python peak RSS MB "
            f"| python grew during call MB | peak RSS of python + git MB |\n|{' --- |' * 7}"
        )
        for variant, rows in results.items():
            seconds = statistics.median(r["seconds"] for r in rows)
            print(
                f"| {variant} | {int(rows[0]['files'])} | {seconds:.2f} | {seconds / base:.2f} "
                f"| {max(r['python_mb'] for r in rows):.0f} "
                f"| {max(r['grew_mb'] for r in rows):.0f} "
                f"| {max(r['tree_mb'] for r in rows):.0f} |"
            )
        print(f"\n{args.rounds} rounds; load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    sys.exit(main())
